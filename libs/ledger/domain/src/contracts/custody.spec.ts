import { describe, expect, it } from 'vitest';
import { canonicalBytes, type Envelope, generateKeyPair, keyId, signTransaction, toHex, verify, type KeyPair, type Transaction } from '@alliance/protocol';
import { agentKeyContracts } from './agent-keys';
import { CONFIG_KEY, genesisContract } from './config';
import { type CustodyItem, custodyContracts, isClassKey, itemKeyOf, type Transfer, transferEventOf, transferKeyOf } from './custody';
import { executeBlock } from './executor';
import { ContractRegistry } from './registry';
import { roleContracts } from './roles';
import type { ChainConfig, JsonValue, VersionedValue } from './types';

const chainId = 'custody-test';
const org1 = generateKeyPair('ed25519');
const org2 = generateKeyPair('ed25519');
const org3 = generateKeyPair('ed25519');
const regulator = generateKeyPair('ed25519');
const keyOf = (k: KeyPair) => ({ keyId: keyId('ed25519', k.publicKey), algorithm: 'ed25519', publicKey: toHex(k.publicKey) });
const config: ChainConfig = {
  chainId,
  sequence: 0,
  members: [org1, org2, org3].map((k, i) => ({ organizationId: `org${i + 1}`, role: 'manufacturer', nodeKey: { algorithm: 'ed25519' as const, publicKey: toHex(generateKeyPair('ed25519').publicKey) }, keys: [keyOf(k)] })),
  observers: [{ organizationId: 'regulator', role: 'regulator', keys: [keyOf(regulator)] }],
  policies: { certification: { type: 'majority' }, configuration: { type: 'majority' } },
  cutting: { maxTransactions: 100, maxBytes: 1_048_576, batchTimeoutMs: 200 },
  timestampWindowMs: 60_000,
};
const registry = new ContractRegistry([genesisContract, ...agentKeyContracts, ...roleContracts, ...custodyContracts]);
const time = '2026-12-02T08:00:00.000Z';
/** Block n's timestamp: n seconds after `time` (within the transactions' window). */
const blockTime = (n: number) => `2026-12-02T08:00:${String(n).padStart(2, '0')}.000Z`;
let nonce = 0;
const signed = (org: string, key: KeyPair, type: string, payload: Record<string, unknown>): Envelope =>
  signTransaction({ chainId, type, creator: { organizationId: org, keyId: keyId('ed25519', key.publicKey) }, nonce: `c${nonce++}`, timestamp: time, payload } as Transaction, { algorithm: 'ed25519', privateKey: key.privateKey });

const SGTIN = 'https://id.gs1.org/01/09521234543213/21/123';
const SSCC = 'https://id.gs1.org/00/095212345678901234';
const LOT = 'https://id.gs1.org/01/09521234543213/10/LOT1';

interface Result {
  readonly code: string;
  readonly detail: string | null;
  readonly transactionId: string;
}

class Chain {
  readonly state = new Map<string, VersionedValue>([[CONFIG_KEY, { value: config as unknown as JsonValue, version: 1 }]]);
  block = 0;
  run(...envelopes: Envelope[]): Result[] {
    const blockNumber = ++this.block;
    const out = executeBlock(
      { chainId, blockNumber, blockTimestamp: blockTime(blockNumber), config, state: { get: (k) => this.state.get(k) }, isCommitted: () => false, verifier: verify, registry },
      envelopes.map((e) => canonicalBytes(e as unknown as JsonValue)),
    );
    for (const [k, v] of out.writes) this.state.set(k, v);
    return out.transactions.map((t) => ({ code: t.result.code, detail: t.detail ?? null, transactionId: t.result.transactionId }));
  }
  one(envelope: Envelope): Result {
    return this.run(envelope)[0];
  }
  item(item: string): CustodyItem | undefined {
    return this.state.get(itemKeyOf(item))?.value as unknown as CustodyItem | undefined;
  }
  transfer(transferId: string): Transfer | undefined {
    return this.state.get(transferKeyOf(transferId))?.value as unknown as Transfer | undefined;
  }
}

const keys: Record<string, KeyPair> = { org1, org2, org3, regulator };
const register = (org: string, item: string, extra: Record<string, unknown> = {}) => signed(org, keys[org], 'provenance.item.register', { item, ...extra });
const propose = (org: string, transferId: string, item: string, kind: string, to: string, extra: Record<string, unknown> = {}) =>
  signed(org, keys[org], 'provenance.transfer.propose', { transferId, item, kind, to, ...extra });
const answer = (org: string, transferId: string, decision: string, extra: Record<string, unknown> = {}) => signed(org, keys[org], 'provenance.transfer.answer', { transferId, decision, ...extra });
const cancel = (org: string, transferId: string, extra: Record<string, unknown> = {}) => signed(org, keys[org], 'provenance.transfer.cancel', { transferId, ...extra });

/** A chain where org1 registered SGTIN (block 1). */
function withItem(item = SGTIN): Chain {
  const chain = new Chain();
  expect(chain.one(register('org1', item)).code).toBe('VALID');
  return chain;
}

describe('provenance.item.register', () => {
  it('registers an item owned and held by the creator’s organization', () => {
    const chain = withItem();
    expect(chain.item(SGTIN)).toEqual({ item: SGTIN, owner: 'org1', custodian: 'org1', registeredAtBlock: 1, updatedAtBlock: 1, pendingTransfer: null } satisfies CustodyItem);
    expect(chain.one(register('org2', SSCC, { owner: 'org2', custodian: 'org2' })).code).toBe('VALID');
    expect(chain.item(SSCC)).toMatchObject({ owner: 'org2', custodian: 'org2', registeredAtBlock: 2 });
  });

  it('refuses an item already registered, by anyone', () => {
    const chain = withItem();
    const again = chain.one(register('org2', SGTIN));
    expect(again).toMatchObject({ code: 'PROVENANCE.ITEM_EXISTS', detail: `item ${SGTIN} is already registered (owner org1, custodian org1)` });
    expect(chain.one(register('org1', SGTIN)).code).toBe('PROVENANCE.ITEM_EXISTS');
    expect(chain.item(SGTIN)?.updatedAtBlock).toBe(1);
  });

  it('refuses an owner or custodian other than the registering organization', () => {
    const chain = new Chain();
    const r = chain.one(register('org1', SGTIN, { custodian: 'org2' }));
    expect(r.code).toBe('PROVENANCE.INVALID_TRANSFER');
    expect(r.detail).toMatch(/^payload\.custodian, when given, must be the registering organization org1/);
    expect(chain.one(register('org1', SGTIN, { owner: 'org3' })).detail).toMatch(/^payload\.owner/);
    expect(chain.item(SGTIN)).toBeUndefined();
  });

  it('accepts only the canonical Digital Link form of an item key', () => {
    const chain = new Chain();
    const code = (item: unknown) => chain.one(signed('org1', org1, 'provenance.item.register', { item })).code;
    for (const good of [LOT, 'https://id.gs1.org/01/09521234543213', 'https://id.gs1.org/8004/0614141TH-0042', 'https://id.gs1.org/01/09521234543213/21/A%2FB', 'https://id.gs1.org/8003/095212345432130001']) expect(code(good)).toBe('VALID');
    for (const bad of [
      'urn:epc:id:sgtin:9521234.054321.123', // an EPC URN: the service normalises it first
      'https://example.com/01/09521234543213/21/123', // another domain
      'http://id.gs1.org/01/09521234543213/21/123',
      'https://id.gs1.org/01/09521234543213/21', // a qualifier AI without its value
      'https://id.gs1.org/01/09521234543213/21/123/', // trailing slash
      'https://id.gs1.org/01/09521234543213/21/123?linkType=all', // query string
      'https://id.gs1.org/01/09521234543213/21/A%2fB', // lower-case escape: not the one form
      'https://id.gs1.org/01/09521234543213/21/a b',
      'https://id.gs1.org/01/09521234543213/21/a~b', // not GS1 character set 82
      'https://id.gs1.org/8006/095212345432130102/21/9', // an ITIP: not a key the service stores
      'https://id.gs1.org/414/9521234543213', // a location, not an item
      'https://id.gs1.org/417/9521234543213', // a party
      `https://id.gs1.org/01/09521234543213/21/${'1'.repeat(300)}`, // over 300 characters
      42,
      null,
    ])
      expect(code(bad), String(bad)).toBe('PROVENANCE.INVALID_TRANSFER');
  });

  it('refuses unknown payload fields, naming them and the expected ones', () => {
    const r = new Chain().one(register('org1', SGTIN, { lot: 'LOT1' }));
    expect(r).toMatchObject({ code: 'PROVENANCE.INVALID_TRANSFER', detail: 'unexpected payload field(s): lot; expected only item, owner, custodian' });
  });

  it('is for an admin key or an agent holding provenance.custody.manage; observers hold no items', () => {
    const chain = new Chain();
    const clerk = generateKeyPair('ed25519');
    const erp = generateKeyPair('ed25519');
    chain.run(signed('org1', org1, 'identity.role.define', { roleId: 'logistics', permissions: ['provenance.custody.manage'] }));
    chain.run(signed('org1', org1, 'identity.agent.register', { agentId: 'erp', name: 'ERP', roles: ['logistics'], keys: [{ algorithm: 'ed25519', publicKey: toHex(erp.publicKey) }] }));
    chain.run(signed('org1', org1, 'identity.agent.register', { agentId: 'clerk', name: 'Clerk', roles: [], keys: [{ algorithm: 'ed25519', publicKey: toHex(clerk.publicKey) }] }));
    expect(chain.one(signed('org1', erp, 'provenance.item.register', { item: SGTIN })).code).toBe('VALID');
    expect(chain.one(signed('org1', clerk, 'provenance.item.register', { item: SSCC })).code).toBe('IDENTITY.NOT_ALLOWED');
    expect(chain.one(register('regulator', LOT)).code).toBe('LEDGER.OBSERVER_READ_ONLY');
    expect(chain.item(SSCC)).toBeUndefined();
    expect(chain.item(LOT)).toBeUndefined();
  });
});

describe('provenance.transfer.propose', () => {
  it('opens a transfer by the holder and marks the item pending', () => {
    const chain = withItem();
    const r = chain.one(propose('org1', 'transfer-0001', SGTIN, 'ownership', 'org2', { note: 'PO 4711' }));
    expect(r.code).toBe('VALID');
    expect(chain.transfer('transfer-0001')).toEqual({
      transferId: 'transfer-0001',
      item: SGTIN,
      kind: 'ownership',
      from: 'org1',
      to: 'org2',
      status: 'open',
      proposedAtBlock: 2,
      proposedAt: blockTime(2),
      decidedAtBlock: null,
      decidedAt: null,
      proposalTransactionId: r.transactionId,
      decisionTransactionId: null,
      note: 'PO 4711',
      reason: null,
    } satisfies Transfer);
    expect(chain.item(SGTIN)).toEqual({ item: SGTIN, owner: 'org1', custodian: 'org1', registeredAtBlock: 1, updatedAtBlock: 2, pendingTransfer: 'transfer-0001' } satisfies CustodyItem);
  });

  it('ownership only by the owner, custody only by the custodian', () => {
    const chain = withItem();
    // org1 hands custody to org2 (a carrier) and keeps ownership.
    chain.run(propose('org1', 'transfer-0001', SGTIN, 'custody', 'org2'));
    chain.run(answer('org2', 'transfer-0001', 'accept'));
    expect(chain.item(SGTIN)).toMatchObject({ owner: 'org1', custodian: 'org2' });
    expect(chain.one(propose('org2', 'transfer-0002', SGTIN, 'ownership', 'org3'))).toMatchObject({ code: 'PROVENANCE.NOT_OWNER', detail: `only the owner org1 of ${SGTIN} proposes its ownership transfer` });
    expect(chain.one(propose('org1', 'transfer-0003', SGTIN, 'custody', 'org3'))).toMatchObject({ code: 'PROVENANCE.NOT_CUSTODIAN', detail: `only the custodian org2 of ${SGTIN} proposes its custody transfer` });
    expect(chain.one(propose('org3', 'transfer-0004', SGTIN, 'custody', 'org1')).code).toBe('PROVENANCE.NOT_CUSTODIAN');
    expect(chain.transfer('transfer-0002')).toBeUndefined();
    expect(chain.item(SGTIN)?.pendingTransfer).toBeNull();
    // Each holder moves its own role.
    expect(chain.one(propose('org1', 'transfer-0005', SGTIN, 'ownership', 'org3')).code).toBe('VALID');
  });

  it('to a member organization other than the current holder', () => {
    const chain = withItem();
    const to = (org: string) => chain.one(propose('org1', `transfer-to-${org}`, SGTIN, 'ownership', org));
    expect(to('org9')).toMatchObject({ code: 'PROVENANCE.INVALID_TRANSFER', detail: 'payload.to (org9) must be a member organization of the chain' });
    expect(to('regulator').code).toBe('PROVENANCE.INVALID_TRANSFER');
    expect(to('org1')).toMatchObject({ code: 'PROVENANCE.INVALID_TRANSFER', detail: 'payload.to must differ from the current owner org1' });
    expect(chain.item(SGTIN)?.pendingTransfer).toBeNull();
  });

  it('one open transfer per item; transfer ids are unique; the item must be registered', () => {
    const chain = withItem();
    chain.run(register('org1', SSCC));
    expect(chain.one(propose('org1', 'transfer-0001', SGTIN, 'ownership', 'org2')).code).toBe('VALID');
    // Another kind does not open a second transfer either.
    expect(chain.one(propose('org1', 'transfer-0002', SGTIN, 'custody', 'org3'))).toMatchObject({ code: 'PROVENANCE.TRANSFER_PENDING', detail: `transfer transfer-0001 of ${SGTIN} is open; it is answered or cancelled first` });
    expect(chain.one(propose('org1', 'transfer-0001', SSCC, 'ownership', 'org2'))).toMatchObject({ code: 'PROVENANCE.DUPLICATE_TRANSFER', detail: 'transfer transfer-0001 already exists' });
    expect(chain.one(propose('org1', 'transfer-0003', LOT, 'ownership', 'org2'))).toMatchObject({ code: 'PROVENANCE.UNKNOWN_ITEM', detail: `item ${LOT} is not registered` });
    expect(chain.item(SSCC)?.pendingTransfer).toBeNull();
    // Once the open one is closed, the item takes a new proposal.
    chain.run(cancel('org1', 'transfer-0001'));
    expect(chain.one(propose('org1', 'transfer-0002', SGTIN, 'custody', 'org3')).code).toBe('VALID');
  });

  it('when two proposals for one item race in the same block, the second finds the first open', () => {
    const chain = withItem();
    const results = chain.run(propose('org1', 'transfer-0001', SGTIN, 'ownership', 'org2'), propose('org1', 'transfer-0002', SGTIN, 'custody', 'org3'));
    expect(results.map((r) => r.code)).toEqual(['VALID', 'PROVENANCE.TRANSFER_PENDING']);
    expect(chain.item(SGTIN)?.pendingTransfer).toBe('transfer-0001');
    expect(chain.transfer('transfer-0002')).toBeUndefined();
  });

  it('refuses malformed proposals with PROVENANCE.INVALID_TRANSFER naming the field', () => {
    const chain = withItem();
    const detail = (payload: Record<string, unknown>) => {
      const r = chain.one(signed('org1', org1, 'provenance.transfer.propose', { transferId: 'transfer-0001', item: SGTIN, kind: 'ownership', to: 'org2', ...payload }));
      expect(r.code).toBe('PROVENANCE.INVALID_TRANSFER');
      return r.detail;
    };
    expect(detail({ transferId: 'short' })).toBe('payload.transferId must be 8-64 of [A-Za-z0-9_-]');
    expect(detail({ transferId: 'transfer/0001' })).toBe('payload.transferId must be 8-64 of [A-Za-z0-9_-]');
    expect(detail({ item: 'urn:epc:id:sgtin:9521234.054321.123' })).toMatch(/^payload\.item must be a GS1 key as its canonical Digital Link/);
    expect(detail({ kind: 'possession' })).toBe('payload.kind must be "ownership" or "custody"');
    expect(detail({ to: 7 })).toBe('payload.to must be the receiving organization id');
    expect(detail({ note: '' })).toBe('payload.note, when given, must be 1-500 characters without control characters');
    expect(detail({ note: 'x'.repeat(501) })).toMatch(/^payload\.note/);
    expect(detail({ note: 'line\u0007break' })).toMatch(/^payload\.note/);
    expect(detail({ quantity: 3 })).toBe('unexpected payload field(s): quantity; expected only transferId, item, kind, to, note');
    expect(chain.item(SGTIN)?.pendingTransfer).toBeNull();
  });
});

describe('provenance.transfer.answer', () => {
  it('accepting an ownership transfer makes the receiver owner; the custodian stays', () => {
    const chain = withItem();
    const proposal = chain.one(propose('org1', 'transfer-0001', SGTIN, 'ownership', 'org2'));
    const r = chain.one(answer('org2', 'transfer-0001', 'accept', { reason: 'goods received in order' }));
    expect(r.code).toBe('VALID');
    expect(chain.item(SGTIN)).toEqual({ item: SGTIN, owner: 'org2', custodian: 'org1', registeredAtBlock: 1, updatedAtBlock: 3, pendingTransfer: null } satisfies CustodyItem);
    expect(chain.transfer('transfer-0001')).toEqual({
      transferId: 'transfer-0001',
      item: SGTIN,
      kind: 'ownership',
      from: 'org1',
      to: 'org2',
      status: 'accepted',
      proposedAtBlock: 2,
      proposedAt: blockTime(2),
      decidedAtBlock: 3,
      decidedAt: blockTime(3),
      proposalTransactionId: proposal.transactionId,
      decisionTransactionId: r.transactionId,
      note: null,
      reason: 'goods received in order',
    } satisfies Transfer);
    // The new owner passes it on; the old one no longer can.
    expect(chain.one(propose('org1', 'transfer-0002', SGTIN, 'ownership', 'org3')).code).toBe('PROVENANCE.NOT_OWNER');
    expect(chain.one(propose('org2', 'transfer-0003', SGTIN, 'ownership', 'org3')).code).toBe('VALID');
  });

  it('accepting a custody transfer makes the receiver custodian; the owner stays', () => {
    const chain = withItem(SSCC);
    chain.run(propose('org1', 'transfer-0001', SSCC, 'custody', 'org3'));
    chain.run(answer('org3', 'transfer-0001', 'accept'));
    expect(chain.item(SSCC)).toMatchObject({ owner: 'org1', custodian: 'org3', pendingTransfer: null, updatedAtBlock: 3 });
    expect(chain.transfer('transfer-0001')).toMatchObject({ status: 'accepted', reason: null });
  });

  it('rejecting leaves the item where it was and frees it for another proposal', () => {
    const chain = withItem();
    chain.run(propose('org1', 'transfer-0001', SGTIN, 'ownership', 'org2'));
    expect(chain.one(answer('org2', 'transfer-0001', 'reject', { reason: 'not ordered' })).code).toBe('VALID');
    expect(chain.item(SGTIN)).toEqual({ item: SGTIN, owner: 'org1', custodian: 'org1', registeredAtBlock: 1, updatedAtBlock: 3, pendingTransfer: null } satisfies CustodyItem);
    expect(chain.transfer('transfer-0001')).toMatchObject({ status: 'rejected', decidedAtBlock: 3, reason: 'not ordered' });
    expect(chain.one(propose('org1', 'transfer-0002', SGTIN, 'ownership', 'org3')).code).toBe('VALID');
  });

  it('only the receiver answers, only an open transfer, only a known one', () => {
    const chain = withItem();
    chain.run(propose('org1', 'transfer-0001', SGTIN, 'ownership', 'org2'));
    expect(chain.one(answer('org1', 'transfer-0001', 'accept'))).toMatchObject({ code: 'PROVENANCE.NOT_RECEIVER', detail: 'only the receiving organization org2 answers transfer transfer-0001' });
    expect(chain.one(answer('org3', 'transfer-0001', 'accept')).code).toBe('PROVENANCE.NOT_RECEIVER');
    expect(chain.item(SGTIN)?.owner).toBe('org1');
    expect(chain.one(answer('org2', 'transfer-0001', 'accept')).code).toBe('VALID');
    expect(chain.one(answer('org2', 'transfer-0001', 'reject'))).toMatchObject({ code: 'PROVENANCE.TRANSFER_CLOSED', detail: 'transfer transfer-0001 was accepted at block 5' });
    expect(chain.one(answer('org2', 'transfer-9999', 'accept'))).toMatchObject({ code: 'PROVENANCE.UNKNOWN_TRANSFER', detail: 'transfer transfer-9999 does not exist' });
    expect(chain.transfer('transfer-0001')?.status).toBe('accepted');
  });

  it('refuses malformed answers with PROVENANCE.INVALID_TRANSFER naming the field', () => {
    const chain = withItem();
    chain.run(propose('org1', 'transfer-0001', SGTIN, 'ownership', 'org2'));
    expect(chain.one(answer('org2', 'transfer-0001', 'accepted'))).toMatchObject({ code: 'PROVENANCE.INVALID_TRANSFER', detail: 'payload.decision must be "accept" or "reject"' });
    expect(chain.one(answer('org2', 'transfer-0001', 'accept', { reason: 'x'.repeat(501) }))).toMatchObject({ code: 'PROVENANCE.INVALID_TRANSFER', detail: 'payload.reason, when given, must be 1-500 characters without control characters' });
    expect(chain.one(answer('org2', 'transfer-0001', 'accept', { to: 'org3' }))).toMatchObject({ code: 'PROVENANCE.INVALID_TRANSFER', detail: 'unexpected payload field(s): to; expected only transferId, decision, reason' });
    expect(chain.one(answer('org2', 'x', 'accept')).detail).toBe('payload.transferId must be 8-64 of [A-Za-z0-9_-]');
    expect(chain.transfer('transfer-0001')?.status).toBe('open');
  });

  it('is for an admin key or an agent of the receiver holding provenance.custody.manage', () => {
    const chain = withItem();
    const dock = generateKeyPair('ed25519');
    const clerk = generateKeyPair('ed25519');
    chain.run(signed('org2', org2, 'identity.role.define', { roleId: 'receiving', permissions: ['provenance.custody.manage'] }));
    chain.run(signed('org2', org2, 'identity.agent.register', { agentId: 'dock', name: 'Dock 4', roles: ['receiving'], keys: [{ algorithm: 'ed25519', publicKey: toHex(dock.publicKey) }] }));
    chain.run(signed('org2', org2, 'identity.agent.register', { agentId: 'clerk', name: 'Clerk', roles: [], keys: [{ algorithm: 'ed25519', publicKey: toHex(clerk.publicKey) }] }));
    chain.run(propose('org1', 'transfer-0001', SGTIN, 'custody', 'org2'));
    expect(chain.one(signed('org2', clerk, 'provenance.transfer.answer', { transferId: 'transfer-0001', decision: 'accept' })).code).toBe('IDENTITY.NOT_ALLOWED');
    expect(chain.one(signed('org2', dock, 'provenance.transfer.answer', { transferId: 'transfer-0001', decision: 'accept' })).code).toBe('VALID');
    expect(chain.item(SGTIN)?.custodian).toBe('org2');
  });
});

describe('provenance.transfer.cancel', () => {
  it('the proposer cancels an open transfer; the item stays and is free again', () => {
    const chain = withItem();
    chain.run(propose('org1', 'transfer-0001', SGTIN, 'custody', 'org2'));
    const r = chain.one(cancel('org1', 'transfer-0001', { reason: 'carrier changed' }));
    expect(r.code).toBe('VALID');
    expect(chain.transfer('transfer-0001')).toMatchObject({ status: 'cancelled', decidedAtBlock: 3, decidedAt: blockTime(3), decisionTransactionId: r.transactionId, reason: 'carrier changed' });
    expect(chain.item(SGTIN)).toEqual({ item: SGTIN, owner: 'org1', custodian: 'org1', registeredAtBlock: 1, updatedAtBlock: 3, pendingTransfer: null } satisfies CustodyItem);
    // A cancelled transfer is answered no more.
    expect(chain.one(answer('org2', 'transfer-0001', 'accept'))).toMatchObject({ code: 'PROVENANCE.TRANSFER_CLOSED', detail: 'transfer transfer-0001 was cancelled at block 3' });
    expect(chain.item(SGTIN)?.custodian).toBe('org1');
  });

  it('only the proposer cancels, only an open transfer', () => {
    const chain = withItem();
    chain.run(propose('org1', 'transfer-0001', SGTIN, 'ownership', 'org2'));
    expect(chain.one(cancel('org2', 'transfer-0001'))).toMatchObject({ code: 'PROVENANCE.NOT_PROPOSER', detail: 'only the proposing organization org1 cancels transfer transfer-0001' });
    expect(chain.transfer('transfer-0001')?.status).toBe('open');
    chain.run(answer('org2', 'transfer-0001', 'reject'));
    expect(chain.one(cancel('org1', 'transfer-0001')).code).toBe('PROVENANCE.TRANSFER_CLOSED');
    expect(chain.one(cancel('org1', 'transfer-0404')).code).toBe('PROVENANCE.UNKNOWN_TRANSFER');
    expect(chain.one(cancel('org1', 'transfer-0001', { decision: 'accept' })).code).toBe('PROVENANCE.INVALID_TRANSFER');
    expect(chain.transfer('transfer-0001')?.status).toBe('rejected');
  });
});

describe('transferEventOf', () => {
  const accepted = (over: Partial<Transfer> = {}): Transfer => ({
    transferId: 'transfer-0001',
    item: SGTIN,
    kind: 'ownership',
    from: 'org1',
    to: 'org2',
    status: 'accepted',
    proposedAtBlock: 2,
    proposedAt: '2026-12-02T08:00:02.000Z',
    decidedAtBlock: 7,
    decidedAt: '2026-12-03T10:15:00.000Z',
    proposalTransactionId: 'a'.repeat(64),
    decisionTransactionId: 'b'.repeat(64),
    note: 'PO 4711',
    reason: null,
    ...over,
  });

  it('an ownership transfer of an instance: shipping from the owner, receiving by the new one', () => {
    expect(transferEventOf(accepted(), 'shipping')).toEqual({
      type: 'ObjectEvent',
      eventTime: '2026-12-02T08:00:02.000Z',
      eventTimeZoneOffset: '+00:00',
      epcList: [SGTIN],
      action: 'OBSERVE',
      bizStep: 'shipping',
      disposition: 'in_transit',
      bizTransactionList: [{ type: 'urn:alliance:transfer', bizTransaction: 'urn:alliance:transfer:transfer-0001' }],
      sourceList: [{ type: 'owning_party', source: 'urn:alliance:org:org1' }],
    });
    expect(transferEventOf(accepted(), 'receiving')).toEqual({
      type: 'ObjectEvent',
      eventTime: '2026-12-03T10:15:00.000Z',
      eventTimeZoneOffset: '+00:00',
      epcList: [SGTIN],
      action: 'OBSERVE',
      bizStep: 'receiving',
      disposition: 'in_progress',
      bizTransactionList: [{ type: 'urn:alliance:transfer', bizTransaction: 'urn:alliance:transfer:transfer-0001' }],
      destinationList: [{ type: 'owning_party', destination: 'urn:alliance:org:org2' }],
    });
  });

  it('custody names the possessing party; a lot or class key goes in quantityList without a quantity', () => {
    const ship = transferEventOf(accepted({ kind: 'custody', item: LOT }), 'shipping');
    expect(ship['quantityList']).toEqual([{ epcClass: LOT }]);
    expect(ship).not.toHaveProperty('epcList');
    expect(ship['sourceList']).toEqual([{ type: 'possessing_party', source: 'urn:alliance:org:org1' }]);
    expect(transferEventOf(accepted({ kind: 'custody', item: SSCC }), 'receiving')).toMatchObject({ epcList: [SSCC], destinationList: [{ type: 'possessing_party', destination: 'urn:alliance:org:org2' }] });
    expect(transferEventOf(accepted({ item: 'https://id.gs1.org/01/09521234543213' }), 'shipping')).toHaveProperty('quantityList', [{ epcClass: 'https://id.gs1.org/01/09521234543213' }]);
  });

  it('is deterministic: the same transfer gives the same objects, key order included; another transfer id another event', () => {
    for (const phase of ['shipping', 'receiving'] as const) {
      const a = transferEventOf(accepted(), phase);
      const b = transferEventOf(JSON.parse(JSON.stringify(accepted())) as Transfer, phase);
      expect(JSON.stringify(a)).toBe(JSON.stringify(b));
      expect(a).not.toBe(b);
      expect(JSON.stringify(transferEventOf(accepted({ transferId: 'transfer-0002' }), phase))).not.toBe(JSON.stringify(a));
    }
    // Note, reason and transaction ids are not part of the events.
    expect(transferEventOf(accepted({ note: null, reason: 'ok', proposalTransactionId: 'c'.repeat(64) }), 'shipping')).toEqual(transferEventOf(accepted(), 'shipping'));
  });

  it('derives the events of a transfer the chain accepted, at its block timestamps', () => {
    const chain = withItem();
    chain.run(propose('org1', 'transfer-0001', SGTIN, 'custody', 'org3'));
    chain.run(answer('org3', 'transfer-0001', 'accept'));
    const transfer = chain.transfer('transfer-0001')!;
    expect(transferEventOf(transfer, 'shipping')).toMatchObject({ eventTime: blockTime(2), sourceList: [{ type: 'possessing_party', source: 'urn:alliance:org:org1' }] });
    expect(transferEventOf(transfer, 'receiving')).toMatchObject({ eventTime: blockTime(3), destinationList: [{ type: 'possessing_party', destination: 'urn:alliance:org:org3' }] });
  });

  it('has no events for a transfer that moved nothing', () => {
    for (const status of ['open', 'rejected', 'cancelled'] as const) expect(() => transferEventOf(accepted({ status }), 'shipping')).toThrow(`transfer transfer-0001 is ${status}; only an accepted transfer has events`);
  });

  it('tells class keys from instance keys', () => {
    expect([LOT, 'https://id.gs1.org/01/09521234543213', 'https://id.gs1.org/01/09521234543213/22/2A', 'https://id.gs1.org/8003/09521234543213'].map(isClassKey)).toEqual([true, true, true, true]);
    expect([SGTIN, SSCC, 'https://id.gs1.org/01/09521234543213/10/LOT1/21/7', 'https://id.gs1.org/8003/095212345432130001', 'https://id.gs1.org/8004/0614141TH-0042'].map(isClassKey)).toEqual([false, false, false, false, false]);
  });
});
