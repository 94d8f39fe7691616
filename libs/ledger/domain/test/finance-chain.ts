// Test helpers of the finance contracts: a consortium of two suppliers, a core enterprise, two financiers and a
// regulator, and a chain that runs finance transactions against an in-memory world state the way the executor
// does (observers sign only handlers open to them, a throwing contract is LEDGER.CONTRACT_FAILED, later
// transactions of a block see earlier writes, only valid transactions write).
import { generateKeyPair, keyId, sha256, toHex, utf8, type Envelope, type Transaction } from '@alliance/protocol';
import { agentKeyContracts, type ChainConfig, type ContractContext, type ContractOutcome, ContractRegistry, eventKeyOf, financeContracts, type JsonValue, roleContracts, type VersionedValue } from '../src';
import type { CreditLine, Financing, Payment, Receivable, UnderlyingDocument } from '../src';

export const SUPPLIER_1 = 'supplier-1';
export const SUPPLIER_2 = 'supplier-2';
export const CORE = 'core';
export const BANK_1 = 'bank-1';
export const BANK_2 = 'bank-2';
export const REGULATOR = 'regulator';
export const MEMBERS = [SUPPLIER_1, SUPPLIER_2, CORE, BANK_1, BANK_2] as const;

export const adminKeyIdOf = (organizationId: string) => `${organizationId}-admin`;

const fakeKey = (organizationId: string) => ({ keyId: adminKeyIdOf(organizationId), algorithm: 'ed25519', publicKey: '00'.repeat(32) });

export const financeConfig: ChainConfig = {
  chainId: 'finance-test',
  sequence: 0,
  members: MEMBERS.map((organizationId) => ({ organizationId, role: 'member', nodeKey: { algorithm: 'ed25519' as const, publicKey: '11'.repeat(32) }, keys: [fakeKey(organizationId)] })),
  observers: [{ organizationId: REGULATOR, role: 'regulator', keys: [fakeKey(REGULATOR)] }],
  policies: { certification: { type: 'majority' }, configuration: { type: 'majority' } },
  cutting: { maxTransactions: 100, maxBytes: 1_048_576, batchTimeoutMs: 200 },
  timestampWindowMs: 60_000,
};

export interface Outcome {
  readonly ok: boolean;
  readonly code: string;
  readonly detail: string;
  readonly writes: readonly { key: string; value: JsonValue }[];
}

export interface Tx {
  readonly org: string;
  readonly type: string;
  readonly payload: Record<string, unknown>;
  /** Another key than the organization's admin key (an agent's). */
  readonly keyId?: string;
}

export const tx = (org: string, type: string, payload: Record<string, unknown>, keyId?: string): Tx => ({ org, type, payload, keyId });

/** A document hash: SHA-256 of `text`. */
export const sha = (text: string) => toHex(sha256(utf8(text)));

export class FinanceChain {
  readonly state = new Map<string, VersionedValue>();
  readonly registry = new ContractRegistry([...agentKeyContracts, ...roleContracts, ...financeContracts]);
  block = 0;
  /** "Today": every block's timestamp is 08:00 UTC of this date (plus its number in ms, to tell blocks apart). */
  today = '2027-01-04';
  private counter = 0;

  get timestamp(): string {
    return `${this.today}T08:00:00.${String(this.block % 1000).padStart(3, '0')}Z`;
  }

  advanceDays(days: number): this {
    const t = Date.parse(`${this.today}T00:00:00Z`) + days * 86_400_000;
    this.today = new Date(t).toISOString().slice(0, 10);
    return this;
  }

  /** The context of one transaction in block `blockNumber`, reading the current state. */
  contextOf(t: Tx, blockNumber: number): ContractContext {
    const transaction: Transaction = {
      chainId: financeConfig.chainId,
      type: t.type,
      creator: { organizationId: t.org, keyId: t.keyId ?? adminKeyIdOf(t.org) },
      nonce: `n${this.counter}`,
      timestamp: this.timestamp,
      payload: t.payload as Transaction['payload'],
    };
    return {
      chainId: financeConfig.chainId,
      blockNumber,
      blockTimestamp: this.timestamp,
      transactionId: `tx-${blockNumber}-${this.counter++}`,
      transaction,
      envelope: { transaction } as unknown as Envelope,
      state: { get: (key) => this.state.get(key) },
      config: financeConfig,
      verifySignature: () => false,
    };
  }

  /** Executes `t` in block `blockNumber` against the current state, without writing. */
  execute(t: Tx, blockNumber: number): Outcome {
    const handler = this.registry.find(t.type);
    if (!handler) return { ok: false, code: 'LEDGER.UNKNOWN_TRANSACTION_TYPE', detail: t.type, writes: [] };
    if ((financeConfig.observers ?? []).some((o) => o.organizationId === t.org) && !handler.observers) return { ok: false, code: 'LEDGER.OBSERVER_READ_ONLY', detail: t.type, writes: [] };
    let outcome: ContractOutcome;
    try {
      outcome = handler.execute(this.contextOf(t, blockNumber));
    } catch (error) {
      outcome = { ok: false, code: 'LEDGER.CONTRACT_FAILED', detail: (error as Error).message };
    }
    return outcome.ok ? { ok: true, code: 'VALID', detail: '', writes: outcome.writes } : { ok: false, code: outcome.code, detail: outcome.detail, writes: [] };
  }

  apply(writes: Outcome['writes']): void {
    for (const w of writes) this.state.set(w.key, { value: w.value, version: (this.state.get(w.key)?.version ?? 0) + 1 });
  }

  /** One block of transactions, in order: each sees the writes of the valid ones before it. */
  runBlock(...txs: Tx[]): Outcome[] {
    const blockNumber = ++this.block;
    return txs.map((t) => {
      const out = this.execute(t, blockNumber);
      if (out.ok) this.apply(out.writes);
      return out;
    });
  }

  run(t: Tx): Outcome {
    return this.runBlock(t)[0]!;
  }

  /** Runs `t` and fails unless it is valid. */
  ok(t: Tx): Outcome {
    const out = this.run(t);
    if (!out.ok) throw new Error(`${t.type} by ${t.org} refused: ${out.code} ${out.detail}`);
    return out;
  }

  get<T>(key: string): T | undefined {
    return this.state.get(key)?.value as unknown as T | undefined;
  }
  receivable(id: string): Receivable | undefined {
    return this.get<Receivable>(`finance/receivable/${id}`);
  }
  financing(id: string): Financing | undefined {
    return this.get<Financing>(`finance/financing/${id}`);
  }
  creditLine(id: string): CreditLine | undefined {
    return this.get<CreditLine>(`finance/credit-line/${id}`);
  }
  payment(id: string): Payment | undefined {
    return this.get<Payment>(`finance/payment/${id}`);
  }
  document(docType: string, hash: string): UnderlyingDocument | undefined {
    return this.get<UnderlyingDocument>(`finance/document/${docType}/${hash}`);
  }

  /** A provenance event anchored on the chain (what `provenance.epcis.capture` writes). */
  anchorEvent(eventId: string): void {
    this.state.set(eventKeyOf(eventId), { value: { eventId, organizationId: SUPPLIER_1 }, version: 1 });
  }

  /** An agent of `org` holding `permissions`; returns its key id. */
  agent(org: string, agentId: string, permissions: string[]): string {
    const key = generateKeyPair('ed25519');
    this.ok(tx(org, 'identity.role.define', { roleId: `role-${agentId}`, permissions }));
    this.ok(tx(org, 'identity.agent.register', { agentId, name: agentId, roles: [`role-${agentId}`], keys: [{ algorithm: 'ed25519', publicKey: toHex(key.publicKey) }] }));
    return keyId('ed25519', key.publicKey);
  }

  /** Writes that `out` made, by key prefix. */
  static keysOf(out: Outcome): string[] {
    return out.writes.map((w) => w.key).sort();
  }
}

/** Payload builders with defaults. */
export const issue = (org: string, receivableId: string, extra: Record<string, unknown> = {}) =>
  tx(org, 'finance.receivable.issue', {
    receivableId,
    debtor: CORE,
    currency: 'CNY',
    faceValue: '100000',
    dueDate: '2027-04-04',
    documents: [{ docType: 'invoice', hash: sha(`invoice of ${receivableId}`), amount: '100000' }],
    ...extra,
  });

export const grant = (org: string, creditLineId: string, extra: Record<string, unknown> = {}) =>
  tx(org, 'finance.credit-line.grant', { creditLineId, debtor: CORE, currency: 'CNY', limit: '1000000', ...extra });

export const confirm = (receivableId: string, creditLineId: string, org = CORE) => tx(org, 'finance.receivable.confirm', { receivableId, creditLineId });

export const apply = (org: string, financingId: string, assetId: string, financier: string, kind = 'discounting', extra: Record<string, unknown> = {}) =>
  tx(org, 'finance.financing.apply', { financingId, assetKind: 'receivable', assetId, financier, kind, ...extra });

export const approve = (org: string, financingId: string, extra: Record<string, unknown> = {}) =>
  tx(org, 'finance.financing.approve', { financingId, rateBps: 500, dayCount: 'ACT/360', feeMinor: '0', ...extra });

export const repay = (paymentId: string, rootId: string, amount: string, org = CORE) => tx(org, 'finance.receivable.repay', { paymentId, rootId, amount, paymentReference: `wire ${paymentId}` });

export const freeze = (assetId: string, org = REGULATOR, extra: Record<string, unknown> = {}) =>
  tx(org, 'finance.asset.freeze', { assetKind: 'receivable', assetId, reason: 'court order', ...extra });

export const unfreeze = (assetId: string, org = REGULATOR) => tx(org, 'finance.asset.unfreeze', { assetKind: 'receivable', assetId, reason: 'order lifted' });

/** A chain with credit line `line-0001` of bank-1 for the core, and receivable `recv-0001` (100000 CNY, due 2027-04-04) issued by supplier-1 and confirmed. */
export function confirmedChain(): FinanceChain {
  const chain = new FinanceChain();
  chain.ok(grant(BANK_1, 'line-0001'));
  chain.ok(issue(SUPPLIER_1, 'recv-0001'));
  chain.ok(confirm('recv-0001', 'line-0001'));
  return chain;
}
