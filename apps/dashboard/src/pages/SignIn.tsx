import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { type AllianceKey, type Session, signIn } from '@alliance/sdk';
import { KeyFileError, MAX_KEY_FILE_BYTES, openEncryptedKeyFile, type ParsedKeyFile, parseKeyFileText } from '../lib/key-file';

function readAsText(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    if (file.size > MAX_KEY_FILE_BYTES) {
      reject(new KeyFileError('This file is too large to be a key file.'));
      return;
    }
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result ?? ''));
    reader.onerror = () => reject(new KeyFileError(`The file could not be read: ${reader.error?.message ?? 'unknown error'}.`));
    reader.readAsText(file);
  });
}

/**
 * Sign-in with a key file: read with FileReader, the challenge signed here by
 * the SDK; the private key never leaves this page and the tokens stay in
 * memory (a reload signs out).
 */
export function SignInPage({ onSignedIn }: { readonly onSignedIn: (session: Session) => void }) {
  const fileId = useId();
  const passphraseId = useId();
  const [parsed, setParsed] = useState<ParsedKeyFile | null>(null);
  const [passphrase, setPassphrase] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const errorRef = useRef<HTMLDivElement>(null);
  // The read of the chosen file, so that "Sign in" right after choosing waits for it instead of refusing.
  const reading = useRef<Promise<ParsedKeyFile | null> | null>(null);

  useEffect(() => heading.current?.focus(), []);
  useEffect(() => {
    if (error) errorRef.current?.focus();
  }, [error]);

  async function choose(file: File | undefined) {
    setError(null);
    setParsed(null);
    if (!file) {
      reading.current = null;
      return;
    }
    const read = readAsText(file).then(parseKeyFileText);
    reading.current = read.catch(() => null);
    try {
      setParsed(await read);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    const chosen = parsed ?? (reading.current ? await reading.current : null);
    if (!chosen) {
      setError('Choose your key file first.');
      return;
    }
    setBusy(true);
    try {
      let key: AllianceKey;
      if (chosen.kind === 'encrypted') {
        if (passphrase === '') throw new KeyFileError('This key file is encrypted: enter its passphrase.');
        key = await openEncryptedKeyFile(chosen.text, passphrase);
      } else key = chosen.key;
      const session = await signIn(window.location.origin, key);
      onSignedIn(session);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      setBusy(false);
    }
  }

  return (
    <main id="main" className="sign-in">
      <h1 ref={heading} tabIndex={-1}>
        Sign in
      </h1>
      <p>Sign in to the Alliance dashboard with your organization’s key file. The key stays in this browser: only a signature of a one-time challenge is sent.</p>
      <form onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor={fileId}>Key file</label>
          <input id={fileId} type="file" accept=".json,application/json" aria-describedby={`${fileId}-hint`} onChange={(e) => void choose(e.currentTarget.files?.[0])} />
          <p id={`${fileId}-hint`} className="hint">
            For example <code>.alliance/demo-keys/org1.key.json</code> after <code>npm start</code>.
          </p>
        </div>
        {parsed?.kind === 'key' && (
          <p className="hint">
            Key of <strong>{parsed.key.organizationId}</strong> ({parsed.key.algorithm}, key {parsed.key.keyId}).
          </p>
        )}
        {parsed?.kind === 'encrypted' && (
          <div className="field">
            <label htmlFor={passphraseId}>Passphrase</label>
            <input id={passphraseId} type="password" autoComplete="current-password" value={passphrase} onChange={(e) => setPassphrase(e.currentTarget.value)} />
          </div>
        )}
        {error && (
          <div role="alert" ref={errorRef} tabIndex={-1} className="state state-error">
            {error}
          </div>
        )}
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        {busy && (
          <p role="status" className="state state-loading">
            Loading…
          </p>
        )}
      </form>
    </main>
  );
}
