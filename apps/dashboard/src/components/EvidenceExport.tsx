import { type FormEvent, useId, useRef, useState } from 'react';
import { type Authorize, query } from '../lib/api';
import { ErrorAlert, Loading } from './states';

/** GraphQL `AuditEvidenceFile`: the package as the file the REST export downloads. */
interface EvidenceFile {
  readonly fileName: string;
  readonly mediaType: string;
  readonly content: string;
  readonly recordCount: number;
  readonly transactionCount: number;
}

type Kind = 'receivable' | 'trace';

const FIELDS = 'fileName mediaType content recordCount transactionCount';
const DOCUMENTS: Readonly<Record<Kind, { readonly document: string; readonly field: string; readonly label: string; readonly variable: string }>> = {
  receivable: { document: `query ($id: String!) { auditEvidenceReceivable(receivableId: $id) { ${FIELDS} } }`, field: 'auditEvidenceReceivable', label: 'Receivable id', variable: 'id' },
  trace: { document: `query ($item: String!) { auditEvidenceTrace(item: $item) { ${FIELDS} } }`, field: 'auditEvidenceTrace', label: 'EPC, lot or GTIN', variable: 'item' },
};

type Export = { readonly state: 'idle' } | { readonly state: 'working' } | { readonly state: 'saved'; readonly file: Omit<EvidenceFile, 'content'> } | { readonly state: 'error'; readonly error: unknown };

/** Hands the file to the browser's downloads, as the REST export's attachment would be. */
function save(file: EvidenceFile): void {
  const url = URL.createObjectURL(new Blob([file.content], { type: file.mediaType }));
  const link = document.createElement('a');
  link.href = url;
  link.download = file.fileName;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has taken the bytes once the click's task ran.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * The regulator's evidence export: the signed package of a receivable's tree or of an item's trace (docs/audit.md,
 * Evidence packages), saved as a file anyone verifies offline with `alliance verify evidence <file>`.
 */
export function EvidenceExport({ authorize }: { readonly authorize: Authorize }) {
  const [kind, setKind] = useState<Kind>('receivable');
  const [subject, setSubject] = useState('');
  const [result, setResult] = useState<Export>({ state: 'idle' });
  const abort = useRef<AbortController | null>(null);
  const inputId = useId();
  const spec = DOCUMENTS[kind];

  async function submit(event: FormEvent) {
    event.preventDefault();
    const value = subject.trim();
    if (!value) {
      setResult({ state: 'error', error: new Error(`Enter a ${spec.label.toLowerCase()} to export.`) });
      return;
    }
    abort.current?.abort();
    const controller = new AbortController();
    abort.current = controller;
    setResult({ state: 'working' });
    try {
      const data = await query<Record<string, EvidenceFile>>(authorize, spec.document, { [spec.variable]: value }, controller.signal);
      const file = data[spec.field];
      save(file);
      setResult({ state: 'saved', file: { fileName: file.fileName, mediaType: file.mediaType, recordCount: file.recordCount, transactionCount: file.transactionCount } });
    } catch (error) {
      if (!controller.signal.aborted) setResult({ state: 'error', error });
    }
  }

  return (
    <form className="evidence-form" onSubmit={(e) => void submit(e)} aria-describedby={`${inputId}-hint`}>
      <p id={`${inputId}-hint`} className="hint">
        A package of every ledger record of the case with its transactions’ receipts and a checkpoint, signed by the regulator. Verify it offline with <code>alliance verify evidence &lt;file&gt;</code>.
      </p>
      <fieldset>
        <legend>Export</legend>
        <label>
          <input type="radio" name="evidence-kind" value="receivable" checked={kind === 'receivable'} onChange={() => setKind('receivable')} /> Receivable tree
        </label>
        <label>
          <input type="radio" name="evidence-kind" value="trace" checked={kind === 'trace'} onChange={() => setKind('trace')} /> Trace of an item
        </label>
      </fieldset>
      <label htmlFor={inputId}>{spec.label}</label>
      <input id={inputId} type="text" value={subject} onChange={(e) => setSubject(e.target.value)} autoComplete="off" spellCheck={false} />
      <button type="submit" disabled={result.state === 'working'}>
        Export evidence
      </button>
      {result.state === 'working' && <Loading label="Building the evidence package…" />}
      {result.state === 'saved' && (
        <p role="status" className="verdict verdict-ok" aria-label="Evidence saved">
          Saved {result.file.fileName}: {result.file.recordCount} records, {result.file.transactionCount} transactions with their receipts
        </p>
      )}
      {result.state === 'error' && <ErrorAlert error={result.error} />}
    </form>
  );
}
