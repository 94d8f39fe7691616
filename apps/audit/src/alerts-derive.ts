import type { AlertRaisedV1, FinanceRecordChangedV1, ForkDetectedV1 } from '@alliance/contracts';
import { CONFIG_KEY } from '@alliance/ledger/domain';
import type { CommittedBlock, CommittedTransaction } from '@alliance/shared/data-access-messaging';
import { alertIdOf, type AuditAlert } from './alerts-store';

/**
 * The facts the regulator is alerted to, derived from what the chain holds
 * (docs/audit.md, Alerts). Pure and stateless: each alert comes from one
 * transaction, one event or one write, and its alertId from the fact's own
 * identity — so a block read twice, the same fact seen both in a block and in
 * a service's event, or two audit instances raise one alert.
 */

/**
 * The contract refusals that mean "a second financing of the same thing, or
 * backing beyond what exists, was refused" (docs/finance.md; the codes of
 * libs/ledger/domain/src/contracts/finance/*.ts), with the transaction types
 * they mean that for (absent: every type).
 * Not here: FINANCE.CREDIT_LINE_EXCEEDED (a debtor's confirmation over its bank's
 * limit — a credit limit, not a second financing of an asset), FINANCE.ENCUMBERED
 * on a transfer, split, delivery or cancel (moving a pledged asset, not financing it).
 */
export const DOUBLE_FINANCING_CODES: Readonly<Record<string, { readonly types?: readonly string[]; readonly what: string }>> = {
  'FINANCE.ALREADY_ENCUMBERED': { what: 'a financing approved on an asset another financing already holds' },
  'FINANCE.ENCUMBERED': { types: ['finance.financing.apply', 'finance.lease.refinance'], what: 'a new financing of an asset that is already financed' },
  'FINANCE.DOCUMENT_OVERCOMMITTED': { what: 'a document asked to back more than its amount (the same invoice or order financed twice)' },
  'FINANCE.RECEIPT_EXISTS': { types: ['finance.warehouse-receipt.issue'], what: 'a second warehouse receipt for goods that have a live one' },
  'FINANCE.QUANTITY_EXCEEDS_ON_HAND': { types: ['finance.warehouse-receipt.issue'], what: 'a warehouse receipt for more goods than are on hand' },
  'FINANCE.ASSET_LEASED': { types: ['finance.lease.propose'], what: 'a lease of equipment that is already leased' },
};

const VALID = 'VALID';
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

/** What a refused finance transaction was about: the world-state key of its asset or record. */
export function financeSubjectOf(tx: Pick<CommittedTransaction, 'type' | 'payload' | 'transactionId'>): string {
  const p = tx.payload ?? {};
  const assetKind = text(p['assetKind']);
  const assetId = text(p['assetId']);
  if (assetKind && assetId) return `finance/${assetKind}/${assetId}`;
  const kinds: Array<[string, string]> = [
    ['financingId', 'financing'],
    ['receivableId', 'receivable'],
    ['receiptId', 'warehouse-receipt'],
    ['leaseId', 'lease'],
    ['creditLineId', 'credit-line'],
  ];
  for (const [field, kind] of kinds) {
    const id = text(p[field]);
    if (id) return `finance/${kind}/${id}`;
  }
  return `transaction/${tx.transactionId}`;
}

/** A refused double financing in a block's transaction, or null. */
export function doubleFinancingOf(block: Pick<CommittedBlock, 'blockNumber' | 'committedAt'>, tx: CommittedTransaction): AuditAlert | null {
  const rule = DOUBLE_FINANCING_CODES[tx.code];
  if (!rule || !tx.type?.startsWith('finance.')) return null;
  if (rule.types && !rule.types.includes(tx.type)) return null;
  const subject = financeSubjectOf(tx);
  return {
    alertId: alertIdOf('double-financing-refused', tx.transactionId),
    kind: 'double-financing-refused',
    severity: 'warning',
    subject,
    organizationId: tx.organizationId,
    blockNumber: block.blockNumber,
    transactionId: tx.transactionId,
    summary: `${tx.organizationId ?? 'an unknown signer'}'s ${tx.type} on ${subject} refused ${tx.code}: ${rule.what}`,
    detail: { code: tx.code, transactionType: tx.type, payload: tx.payload },
    occurredAt: block.committedAt,
  };
}

/** The organization an asset record belongs to: its holder (receivable, warehouse receipt) or lessor (lease). */
const ownerOf = (record: Obj | null): string | null => (record ? (text(record['holder']) ?? text(record['lessor'])) : null);

/**
 * A freeze or unfreeze of a finance asset (`finance.asset.freeze` / `unfreeze`, signed by an observer):
 * `asset-frozen`, severity warning when frozen, info when lifted. `key` the asset's world-state key.
 */
export function freezeOf(fact: { transactionId: string; transactionType: string; blockNumber: number; key: string; record: Obj | null; occurredAt: string }): AuditAlert | null {
  if (fact.transactionType !== 'finance.asset.freeze' && fact.transactionType !== 'finance.asset.unfreeze') return null;
  if (!/^finance\/(receivable|warehouse-receipt|lease)\/.+$/.test(fact.key)) return null;
  const frozen = fact.transactionType === 'finance.asset.freeze';
  const freeze = fact.record && isObj(fact.record['frozen']) ? (fact.record['frozen'] as Obj) : null;
  const by = freeze ? text(freeze['by']) : null;
  return {
    alertId: alertIdOf('asset-frozen', fact.transactionId, fact.key),
    kind: 'asset-frozen',
    severity: frozen ? 'warning' : 'info',
    subject: fact.key,
    organizationId: ownerOf(fact.record),
    blockNumber: fact.blockNumber,
    transactionId: fact.transactionId,
    summary: frozen ? `${fact.key} frozen by ${by ?? '?'}${freeze && text(freeze['reason']) ? ` (${String(freeze['reason'])})` : ''}` : `${fact.key} unfrozen`,
    detail: {
      change: frozen ? 'frozen' : 'unfrozen',
      by,
      reason: freeze ? (freeze['reason'] ?? null) : null,
      orderReference: freeze ? (freeze['orderReference'] ?? null) : null,
      status: fact.record ? (fact.record['status'] ?? null) : null,
    },
    occurredAt: fact.occurredAt,
  };
}

/** The same from a finance service's `finance.<kind>.changed.v1`. */
export function freezeOfRecordChange(change: FinanceRecordChangedV1, occurredAt: string): AuditAlert | null {
  return freezeOf({ transactionId: change.transactionId, transactionType: change.transactionType, blockNumber: change.blockNumber, key: change.key, record: change.record, occurredAt });
}

/** CBV 2.0 `recalled` as a bare word, its GS1 Web vocabulary IRI or its EPCglobal URN. */
const RECALLED = new Set(['recalled', 'https://ref.gs1.org/cbv/Disp-recalled', 'urn:epcglobal:cbv:disp:recalled']);
const isRecalled = (value: unknown) => typeof value === 'string' && RECALLED.has(value.trim());

/** The identifiers an EPCIS event names, as captured: EPCs, parent, children, inputs, outputs and quantity classes. */
export function epcsOfEvent(event: Obj): string[] {
  const out: string[] = [];
  const push = (v: unknown) => {
    if (typeof v === 'string' && v.length > 0) out.push(v);
  };
  for (const field of ['epcList', 'childEPCs', 'inputEPCList', 'outputEPCList']) if (Array.isArray(event[field])) (event[field] as unknown[]).forEach(push);
  push(event['parentID']);
  for (const field of ['quantityList', 'childQuantityList', 'inputQuantityList', 'outputQuantityList']) {
    if (Array.isArray(event[field])) for (const q of event[field] as unknown[]) if (isObj(q)) push(q['epcClass']);
  }
  return [...new Set(out)];
}

/**
 * Recalls: CBV has no recall transaction; a recall is the EPCIS event that
 * gives goods the disposition `recalled` (CBV 2.0 §7.2) — as its disposition or
 * in `persistentDisposition.set`. The chain carries every captured event in full
 * (`provenance.epcis.capture` payload `events[].event`), so each anchored event
 * with that disposition is one `recall` alert (critical), about the goods it names.
 */
export function recallsOf(block: Pick<CommittedBlock, 'blockNumber' | 'committedAt'>, tx: CommittedTransaction): AuditAlert[] {
  if (tx.code !== VALID || tx.type !== 'provenance.epcis.capture' || !tx.payload || !Array.isArray(tx.payload['events'])) return [];
  const out: AuditAlert[] = [];
  for (const entry of tx.payload['events'] as unknown[]) {
    if (!isObj(entry) || typeof entry['event'] !== 'string') continue;
    let event: Obj;
    try {
      const parsed = JSON.parse(entry['event']) as unknown;
      if (!isObj(parsed)) continue;
      event = parsed;
    } catch {
      continue;
    }
    const persistent = isObj(event['persistentDisposition']) ? (event['persistentDisposition'] as Obj)['set'] : undefined;
    if (!isRecalled(event['disposition']) && !(Array.isArray(persistent) && persistent.some(isRecalled))) continue;
    const eventId = text(entry['eventId']) ?? text(event['eventID']);
    if (!eventId) continue;
    const epcs = epcsOfEvent(event);
    const bizStep = text(event['bizStep']);
    const bizLocation = isObj(event['bizLocation']) ? text(event['bizLocation']['id']) : text(event['bizLocation']);
    const subject = epcs[0] ?? eventId;
    out.push({
      alertId: alertIdOf('recall', eventId),
      kind: 'recall',
      severity: 'critical',
      subject,
      organizationId: tx.organizationId,
      blockNumber: block.blockNumber,
      transactionId: tx.transactionId,
      summary: `${tx.organizationId ?? '?'} recalled ${subject}${epcs.length > 1 ? ` and ${epcs.length - 1} more` : ''}`,
      detail: { eventId, eventType: text(event['type']), eventTime: text(event['eventTime']), bizStep, bizLocation, epcs: epcs.slice(0, 100), epcCount: epcs.length },
      occurredAt: block.committedAt,
    });
  }
  return out;
}

/** A membership change as the identity service's events state it (docs/identity.md, Read model). */
export type MembershipFact =
  | { readonly change: 'organization.joined'; readonly organizationId: string; readonly role: string }
  | { readonly change: 'organization.left'; readonly organizationId: string; readonly reason: 'exit' | 'expel' | 'configuration' }
  | { readonly change: 'proposal.decided'; readonly proposalId: string; readonly kind: string; readonly organizationId: string; readonly status: 'approved' | 'rejected' | 'stale' }
  | { readonly change: 'key.revoked'; readonly organizationId: string; readonly agentId: string; readonly keyId: string };

/** The alert of a membership fact: the same whether it was read from a block or from an identity event. */
export function membershipAlertOf(fact: MembershipFact, origin: { blockNumber: number; transactionId: string; occurredAt: string }): AuditAlert {
  const base = { kind: 'membership-change' as const, subject: fact.organizationId, organizationId: fact.organizationId, blockNumber: origin.blockNumber, transactionId: origin.transactionId, occurredAt: origin.occurredAt, detail: { ...fact } };
  switch (fact.change) {
    case 'organization.joined':
      return { ...base, alertId: alertIdOf('membership-change', fact.change, fact.organizationId, origin.transactionId), severity: 'info', summary: `${fact.organizationId} joined the consortium as ${fact.role}` };
    case 'organization.left':
      return { ...base, alertId: alertIdOf('membership-change', fact.change, fact.organizationId, origin.transactionId), severity: 'warning', summary: `${fact.organizationId} left the consortium (${fact.reason})` };
    case 'proposal.decided':
      // A proposal is decided once: its id names the fact.
      return { ...base, alertId: alertIdOf('membership-change', fact.change, fact.proposalId), severity: 'info', summary: `the ${fact.kind} proposal ${fact.proposalId.slice(0, 12)}… for ${fact.organizationId} was ${fact.status}` };
    case 'key.revoked':
      // A key ends once.
      return { ...base, alertId: alertIdOf('membership-change', fact.change, fact.organizationId, fact.agentId, fact.keyId), severity: 'warning', summary: `key ${fact.keyId} of ${fact.organizationId}/${fact.agentId} was revoked` };
  }
}

/**
 * The membership facts of one valid transaction, from its writes alone: members change only through
 * the genesis configuration (block 0) and approved join, exit and expel proposals, each written in the
 * transaction that decides them; a key is revoked in the block its `endedAtBlock` names.
 */
export function membershipFactsOf(blockNumber: number, tx: CommittedTransaction): MembershipFact[] {
  if (tx.code !== VALID) return [];
  const out: MembershipFact[] = [];
  const proposals: Array<{ proposalId: string; p: Obj }> = [];
  for (const w of tx.writes) {
    if (w.key.startsWith('identity/proposal/') && isObj(w.value)) proposals.push({ proposalId: w.key.slice('identity/proposal/'.length), p: w.value });
  }
  for (const { proposalId, p } of proposals) {
    const status = p['status'];
    if ((status !== 'approved' && status !== 'rejected' && status !== 'stale') || p['decidedAtBlock'] !== blockNumber) continue;
    const organizationId = text(p['organizationId']) ?? '?';
    const kind = text(p['kind']) ?? '?';
    out.push({ change: 'proposal.decided', proposalId, kind, organizationId, status });
    if (status !== 'approved') continue;
    if (kind === 'join') {
      const application = isObj(p['application']) ? p['application'] : {};
      out.push({ change: 'organization.joined', organizationId, role: text(application['role']) ?? '?' });
    } else if (kind === 'exit' || kind === 'expel') {
      out.push({ change: 'organization.left', organizationId, reason: kind });
    }
  }
  const config = tx.writes.find((w) => w.key === CONFIG_KEY);
  if (blockNumber === 0 && config && isObj(config.value) && Array.isArray(config.value['members'])) {
    for (const m of config.value['members'] as unknown[]) {
      if (isObj(m) && text(m['organizationId'])) out.push({ change: 'organization.joined', organizationId: String(m['organizationId']), role: text(m['role']) ?? '?' });
    }
  }
  for (const w of tx.writes) {
    if (!w.key.startsWith('identity/agent/') || !isObj(w.value) || !Array.isArray(w.value['keys'])) continue;
    const organizationId = text(w.value['organizationId']);
    const agentId = text(w.value['agentId']);
    if (!organizationId || !agentId) continue;
    for (const k of w.value['keys'] as unknown[]) {
      if (isObj(k) && k['endedAtBlock'] === blockNumber && k['endReason'] === 'revoked' && text(k['keyId'])) out.push({ change: 'key.revoked', organizationId, agentId, keyId: String(k['keyId']) });
    }
  }
  return out;
}

/** Every alert one committed block gives: refused double financings, freezes, recalls, membership changes. */
export function alertsOfBlock(block: CommittedBlock): AuditAlert[] {
  const out: AuditAlert[] = [];
  for (const tx of block.transactions) {
    const refused = doubleFinancingOf(block, tx);
    if (refused) out.push(refused);
    if (tx.code === VALID && tx.type) {
      for (const w of tx.writes) {
        const alert = freezeOf({ transactionId: tx.transactionId, transactionType: tx.type, blockNumber: block.blockNumber, key: w.key, record: isObj(w.value) ? w.value : null, occurredAt: block.committedAt });
        if (alert) out.push(alert);
      }
    }
    out.push(...recallsOf(block, tx));
    for (const fact of membershipFactsOf(block.blockNumber, tx)) out.push(membershipAlertOf(fact, { blockNumber: block.blockNumber, transactionId: tx.transactionId, occurredAt: block.committedAt }));
  }
  return out;
}

/** A sensor threshold breach as a provenance read model derived it (`provenance.alert.raised.v1`). */
export function sensorBreachOf(a: AlertRaisedV1): AuditAlert {
  const bounds = [a.min !== null ? `min ${a.min}` : null, a.max !== null ? `max ${a.max}` : null].filter(Boolean).join(', ');
  return {
    alertId: alertIdOf('sensor-breach', a.alertId),
    kind: 'sensor-breach',
    severity: 'warning',
    subject: a.subject,
    organizationId: a.organizationId,
    blockNumber: a.blockNumber,
    transactionId: a.transactionId,
    summary: `${a.measurementType} of ${a.subject} outside ${bounds} ${a.uom} from ${a.from} to ${a.to} (worst ${a.worstValue}); rule ${a.ruleId} of ${a.organizationId}`,
    detail: {
      provenanceAlertId: a.alertId,
      ruleId: a.ruleId,
      ruleVersion: a.ruleVersion,
      measurementType: a.measurementType,
      uom: a.uom,
      min: a.min,
      max: a.max,
      from: a.from,
      to: a.to,
      durationSeconds: a.durationSeconds,
      worstValue: a.worstValue,
      disposition: a.disposition,
      eventId: a.eventId,
      batchId: a.batchId,
    },
    occurredAt: a.from,
  };
}

/** A ledger node found a member signing another header for a block it committed (`ledger.fork.detected.v1`). */
export function forkOf(f: ForkDetectedV1): AuditAlert {
  return {
    alertId: alertIdOf('fork', f.chainId, f.nodeId, f.blockNumber, f.signerOrganizationId, f.signedHeaderHash),
    kind: 'fork',
    severity: 'critical',
    subject: `block/${f.blockNumber}`,
    organizationId: f.signerOrganizationId,
    blockNumber: f.blockNumber,
    transactionId: null,
    summary: `${f.signerOrganizationId} signed header ${f.signedHeaderHash.slice(0, 12)}… for block ${f.blockNumber}; node ${f.nodeId} committed ${f.committedHeaderHash.slice(0, 12)}…`,
    detail: { chainId: f.chainId, nodeId: f.nodeId, committedHeaderHash: f.committedHeaderHash, signedHeaderHash: f.signedHeaderHash },
    occurredAt: f.detectedAt,
  };
}
