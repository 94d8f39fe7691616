// Test helpers of the warehouse-receipt and lease contracts: a consortium of a warehouse, a depositor, a lessor,
// a lessee, two banks, another member and a regulator, and a chain that runs signed transactions through the
// executor (executeBlock) with the provenance contracts the finance ones read — custody items and transfers,
// devices, EPCIS capture — and the financing, receivable and freeze contracts they work with. "Today" is a
// calendar date the test moves; every block is stamped 08:00 UTC of it.
import { canonicalBytes, type Envelope, generateKeyPair, keyId, type KeyPair, sha256, signTransaction, toHex, type Transaction, utf8, verify } from '@alliance/protocol';
import {
  agentKeyContracts,
  type ChainConfig,
  CONFIG_KEY,
  ContractRegistry,
  custodyContracts,
  deviceContracts,
  epcisCaptureContract,
  executeBlock,
  financingContractsFor,
  freezeContracts,
  type JsonValue,
  leaseAsset,
  leaseContracts,
  receivableAsset,
  receivableContracts,
  roleContracts,
  type VersionedValue,
  warehouseReceiptAsset,
  warehouseReceiptContracts,
} from '../src';

export const WAREHOUSE = 'warehouse';
export const DEPOSITOR = 'depositor';
export const LESSOR = 'lessor';
export const LESSEE = 'lessee';
export const BANK = 'bank';
export const BANK_2 = 'bank-2';
export const OTHER = 'other';
export const REGULATOR = 'regulator';
const MEMBERS = [WAREHOUSE, DEPOSITOR, LESSOR, LESSEE, BANK, BANK_2, OTHER];

const admin: Record<string, KeyPair> = Object.fromEntries([...MEMBERS, REGULATOR].map((org) => [org, generateKeyPair('ed25519')]));
const pub = (k: KeyPair) => ({ keyId: keyId('ed25519', k.publicKey), algorithm: 'ed25519', publicKey: toHex(k.publicKey) });

const chainId = 'goods-finance-test';
const config: ChainConfig = {
  chainId,
  sequence: 0,
  members: MEMBERS.map((organizationId) => ({ organizationId, role: 'member', nodeKey: { algorithm: 'ed25519' as const, publicKey: toHex(generateKeyPair('ed25519').publicKey) }, keys: [pub(admin[organizationId])] })),
  observers: [{ organizationId: REGULATOR, role: 'regulator', keys: [pub(admin[REGULATOR])] }],
  policies: { certification: { type: 'majority' }, configuration: { type: 'majority' } },
  cutting: { maxTransactions: 100, maxBytes: 1_048_576, batchTimeoutMs: 200 },
  timestampWindowMs: 60_000,
};

const registry = new ContractRegistry([
  ...agentKeyContracts,
  ...roleContracts,
  ...custodyContracts,
  ...deviceContracts,
  epcisCaptureContract,
  ...receivableContracts,
  ...financingContractsFor([receivableAsset, warehouseReceiptAsset, leaseAsset]),
  ...freezeContracts,
  ...warehouseReceiptContracts,
  ...leaseContracts,
]);

export interface Tx {
  readonly org: string;
  readonly type: string;
  readonly payload: Record<string, unknown>;
  /** Another key than the organization's admin key (an agent's). */
  readonly key?: KeyPair;
}

export interface Result {
  readonly code: string;
  readonly detail: string | null;
}

export const tx = (org: string, type: string, payload: Record<string, unknown>, key?: KeyPair): Tx => ({ org, type, payload, key });

let nonce = 0;

export class GoodsChain {
  readonly state = new Map<string, VersionedValue>([[CONFIG_KEY, { value: config as unknown as JsonValue, version: 1 }]]);
  block = 0;
  today = '2027-01-04';

  advanceDays(days: number): this {
    this.today = new Date(Date.parse(`${this.today}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
    return this;
  }

  /** One block of transactions, in order; each sees the writes of the valid ones before it. */
  run(...txs: Tx[]): Result[] {
    const blockNumber = ++this.block;
    const timestamp = `${this.today}T08:00:${String(blockNumber % 60).padStart(2, '0')}.000Z`;
    const envelopes = txs.map((t) => {
      const key = t.key ?? admin[t.org];
      const transaction = { chainId, type: t.type, creator: { organizationId: t.org, keyId: keyId('ed25519', key.publicKey) }, nonce: `g${nonce++}`, timestamp, payload: t.payload } as Transaction;
      return signTransaction(transaction, { algorithm: 'ed25519', privateKey: key.privateKey }) as Envelope;
    });
    const out = executeBlock(
      { chainId, blockNumber, blockTimestamp: timestamp, config, state: { get: (k) => this.state.get(k) }, isCommitted: () => false, verifier: verify, registry },
      envelopes.map((e) => canonicalBytes(e as unknown as JsonValue)),
    );
    for (const [k, v] of out.writes) this.state.set(k, v);
    return out.transactions.map((t) => ({ code: t.result.code, detail: t.detail ?? null }));
  }

  /** The code of one transaction in a block of its own. */
  code(t: Tx): string {
    return this.run(t)[0].code;
  }

  /** Runs `t` in a block of its own and fails unless it is valid. */
  ok(t: Tx): void {
    const [r] = this.run(t);
    if (r.code !== 'VALID') throw new Error(`${t.type} by ${t.org} refused: ${r.code} ${r.detail ?? ''}`);
  }

  get<T>(key: string): T | undefined {
    const value = this.state.get(key)?.value;
    return value === null || value === undefined ? undefined : (value as unknown as T);
  }

  /** An agent of `org` holding `permissions`; returns its key. */
  agent(org: string, agentId: string, permissions: string[]): KeyPair {
    const key = generateKeyPair('ed25519');
    this.ok(tx(org, 'identity.role.define', { roleId: `role-${agentId}`, permissions }));
    this.ok(tx(org, 'identity.agent.register', { agentId, name: agentId, roles: [`role-${agentId}`], keys: [{ algorithm: 'ed25519', publicKey: toHex(key.publicKey) }] }));
    return key;
  }

  /** `org` registers `item` and hands its custody (or ownership) to `to` by a proposed and accepted transfer. */
  registerAndHand(org: string, item: string, to?: string, kind: 'custody' | 'ownership' = 'custody'): void {
    this.ok(tx(org, 'provenance.item.register', { item }));
    if (to) this.transfer(org, item, to, kind);
  }

  transfer(from: string, item: string, to: string, kind: 'custody' | 'ownership' = 'custody'): void {
    const transferId = `t-${toHex(sha256(utf8(`${item}/${this.block}`))).slice(0, 16)}`;
    this.ok(tx(from, 'provenance.transfer.propose', { transferId, item, kind, to }));
    this.ok(tx(to, 'provenance.transfer.answer', { transferId, decision: 'accept' }));
  }

  /** `org` captures one ObjectEvent per id (their anchors are what the finance contracts see). */
  capture(org: string, ...eventIds: string[]): void {
    const eventTime = `${this.today}T07:00:00.000Z`;
    const events = eventIds.map((eventId) => ({
      eventId,
      eventHash: `ni:///sha-256;${toHex(sha256(utf8(eventId)))}?ver=CBV2.0`,
      type: 'ObjectEvent',
      eventTime,
      event: JSON.stringify({ eventID: eventId, type: 'ObjectEvent', eventTime, eventTimeZoneOffset: '+00:00', action: 'OBSERVE', bizStep: 'receiving' }),
    }));
    this.ok(tx(org, 'provenance.epcis.capture', { captureId: `cap-${toHex(sha256(utf8(eventIds.join()))).slice(0, 16)}`, documentHash: toHex(sha256(utf8(eventIds.join()))), context: null, events }));
  }

  /** `org` registers a device with its own fresh key. */
  device(org: string, deviceId: string, assets: string[] = []): void {
    this.ok(tx(org, 'identity.device.register', { deviceId, model: 'Telematics unit T-9', key: { algorithm: 'ed25519', publicKey: toHex(generateKeyPair('ed25519').publicKey) }, assets }));
  }
}

// Financing of an asset by BANK: apply (by the holder), approve — the lock — and its release.
export const apply = (holder: string, financingId: string, assetKind: string, assetId: string, extra: Record<string, unknown> = {}) =>
  tx(holder, 'finance.financing.apply', { financingId, assetKind, assetId, financier: BANK, kind: 'pledge', ...extra });
export const approve = (financingId: string, financier = BANK) => tx(financier, 'finance.financing.approve', { financingId, rateBps: 600, dayCount: 'ACT/360', feeMinor: '0' });
export const releaseFinancing = (financingId: string, financier = BANK) => tx(financier, 'finance.financing.release', { financingId });
export const freeze = (assetKind: string, assetId: string) => tx(REGULATOR, 'finance.asset.freeze', { assetKind, assetId, reason: 'court order 4711' });
export const unfreeze = (assetKind: string, assetId: string) => tx(REGULATOR, 'finance.asset.unfreeze', { assetKind, assetId, reason: 'order lifted' });
