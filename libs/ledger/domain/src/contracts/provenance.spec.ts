import { describe, expect, it } from 'vitest';
import { canonicalBytes, type Envelope, generateKeyPair, keyId, sha256, signTransaction, toHex, utf8, verify, type KeyPair, type Transaction } from '@alliance/protocol';
import { agentKeyContracts } from './agent-keys';
import { CONFIG_KEY, genesisContract } from './config';
import { executeBlock } from './executor';
import { type AnchoredEvent, captureKeyOf, epcisCaptureContract, eventKeyOf, MAX_CAPTURE_EVENTS, privatePurgeContract, privatePurgeKeyOf } from './provenance';
import { ContractRegistry } from './registry';
import { roleContracts } from './roles';
import type { ChainConfig, JsonValue, VersionedValue } from './types';

const chainId = 'provenance-test';
const org1 = generateKeyPair('ed25519');
const org2 = generateKeyPair('ed25519');
const keyOf = (k: KeyPair) => ({ keyId: keyId('ed25519', k.publicKey), algorithm: 'ed25519', publicKey: toHex(k.publicKey) });
const config: ChainConfig = {
  chainId,
  sequence: 0,
  members: [org1, org2].map((k, i) => ({ organizationId: `org${i + 1}`, role: 'manufacturer', nodeKey: { algorithm: 'ed25519' as const, publicKey: toHex(generateKeyPair('ed25519').publicKey) }, keys: [keyOf(k)] })),
  policies: { certification: { type: 'majority' }, configuration: { type: 'majority' } },
  cutting: { maxTransactions: 100, maxBytes: 1_048_576, batchTimeoutMs: 200 },
  timestampWindowMs: 60_000,
};
const registry = new ContractRegistry([genesisContract, ...agentKeyContracts, ...roleContracts, epcisCaptureContract, privatePurgeContract]);
const time = '2026-12-02T08:00:00.000Z';
let nonce = 0;
const signed = (org: string, key: KeyPair, type: string, payload: Record<string, unknown>): Envelope =>
  signTransaction({ chainId, type, creator: { organizationId: org, keyId: keyId('ed25519', key.publicKey) }, nonce: `p${nonce++}`, timestamp: time, payload } as Transaction, { algorithm: 'ed25519', privateKey: key.privateKey });

class Chain {
  readonly state = new Map<string, VersionedValue>([[CONFIG_KEY, { value: config as unknown as JsonValue, version: 1 }]]);
  block = 0;
  run(...envelopes: Envelope[]): Array<{ code: string; detail: string | null }> {
    const out = executeBlock({ chainId, blockNumber: ++this.block, blockTimestamp: time, config, state: { get: (k) => this.state.get(k) }, isCommitted: () => false, verifier: verify, registry }, envelopes.map((e) => canonicalBytes(e as unknown as JsonValue)));
    for (const [k, v] of out.writes) this.state.set(k, v);
    return out.transactions.map((t) => ({ code: t.result.code, detail: (t as { detail?: string | null }).detail ?? null }));
  }
}

const hashId = (seed: string) => `ni:///sha-256;${toHex(sha256(utf8(seed)))}?ver=CBV2.0`;
const eventTime = '2026-12-02T08:00:00.000+08:00';
const event = (seed: string, eventId = hashId(seed)) => ({
  eventId,
  eventHash: hashId(seed),
  type: 'ObjectEvent',
  eventTime,
  event: JSON.stringify({ eventID: eventId, type: 'ObjectEvent', eventTime, eventTimeZoneOffset: '+08:00', action: 'OBSERVE', epcList: [`urn:epc:id:sgtin:0614141.107346.${seed}`], sensor: { value: 26.3 } }),
});
const capture = (captureId: string, events: unknown[]) => ({ captureId, documentHash: toHex(sha256(utf8(captureId))), context: JSON.stringify(['https://ref.gs1.org/standards/epcis/epcis-context.jsonld']), events });

describe('provenance.epcis.capture', () => {
  it('anchors a document’s events for the creator’s organization, each findable by its id', () => {
    const chain = new Chain();
    const [r] = chain.run(signed('org1', org1, 'provenance.epcis.capture', capture('capture-0001', [event('a'), event('b', 'urn:uuid:6f1a2b3c-0000-4000-8000-000000000001')])));
    expect(r.code).toBe('VALID');
    expect(chain.state.get(eventKeyOf('urn:uuid:6f1a2b3c-0000-4000-8000-000000000001'))?.value).toMatchObject({ organizationId: 'org1', captureId: 'capture-0001', eventHash: hashId('b'), blockNumber: 1 } satisfies Partial<AnchoredEvent>);
    expect(chain.state.get(captureKeyOf('capture-0001'))?.value).toMatchObject({ organizationId: 'org1', eventCount: 2 });
  });

  it('refuses the whole capture when one event is already on the chain, under its id or under another id, and names the existing id', () => {
    const chain = new Chain();
    chain.run(signed('org1', org1, 'provenance.epcis.capture', capture('capture-0001', [event('a')])));
    const again = chain.run(signed('org2', org2, 'provenance.epcis.capture', capture('capture-0002', [event('c'), event('a')])))[0];
    expect(again.code).toBe('PROVENANCE.DUPLICATE_EVENT');
    const renamed = chain.run(signed('org2', org2, 'provenance.epcis.capture', capture('capture-0003', [event('a', 'urn:uuid:6f1a2b3c-0000-4000-8000-000000000002')])))[0];
    expect(renamed.code).toBe('PROVENANCE.DUPLICATE_EVENT');
    expect(again.detail).toBe(`event ${hashId('a')} is already captured as ${hashId('a')}`);
    expect(renamed.detail).toBe(`event urn:uuid:6f1a2b3c-0000-4000-8000-000000000002 is already captured as ${hashId('a')}`);
    // Nothing of the refused captures was written: c is still free.
    expect(chain.state.get(eventKeyOf(hashId('c')))).toBeUndefined();
    expect(chain.run(signed('org2', org2, 'provenance.epcis.capture', capture('capture-0004', [event('c')])))[0].code).toBe('VALID');
    expect(chain.run(signed('org2', org2, 'provenance.epcis.capture', capture('capture-0004', [event('d')])))[0].code).toBe('PROVENANCE.DUPLICATE_CAPTURE');
    expect(chain.run(signed('org1', org1, 'provenance.epcis.capture', capture('capture-0005', [event('e'), event('e')])))[0].code).toBe('PROVENANCE.DUPLICATE_EVENT');
  });

  it('when two captures of one event race in the same block, exactly one wins', () => {
    const chain = new Chain();
    const results = chain.run(
      signed('org1', org1, 'provenance.epcis.capture', capture('capture-0010', [event('x')])),
      signed('org2', org2, 'provenance.epcis.capture', capture('capture-0011', [event('x')])),
    );
    expect(results.map((r) => r.code)).toEqual(['VALID', 'PROVENANCE.DUPLICATE_EVENT']);
  });

  it('is for an admin key or an agent holding provenance.event.capture', () => {
    const chain = new Chain();
    const agent = generateKeyPair('ed25519');
    const clerk = generateKeyPair('ed25519');
    chain.run(signed('org1', org1, 'identity.role.define', { roleId: 'capturer', permissions: ['provenance.event.capture'] }));
    chain.run(signed('org1', org1, 'identity.agent.register', { agentId: 'erp', name: 'ERP', roles: ['capturer'], keys: [{ algorithm: 'ed25519', publicKey: toHex(agent.publicKey) }] }));
    chain.run(signed('org1', org1, 'identity.agent.register', { agentId: 'clerk', name: 'Clerk', roles: [], keys: [{ algorithm: 'ed25519', publicKey: toHex(clerk.publicKey) }] }));
    expect(chain.run(signed('org1', agent, 'provenance.epcis.capture', capture('capture-0020', [event('m')])))[0].code).toBe('VALID');
    expect(chain.run(signed('org1', clerk, 'provenance.epcis.capture', capture('capture-0021', [event('n')])))[0].code).toBe('IDENTITY.NOT_ALLOWED');
  });

  it('refuses malformed captures with PROVENANCE.INVALID_CAPTURE', () => {
    const chain = new Chain();
    const code = (payload: Record<string, unknown>) => chain.run(signed('org1', org1, 'provenance.epcis.capture', payload))[0].code;
    expect(code(capture('short', [event('a')]))).toBe('PROVENANCE.INVALID_CAPTURE');
    expect(code(capture('capture-0030', []))).toBe('PROVENANCE.INVALID_CAPTURE');
    expect(code(capture('capture-0031', Array.from({ length: MAX_CAPTURE_EVENTS + 1 }, (_, i) => event(`e${i}`))))).toBe('PROVENANCE.INVALID_CAPTURE');
    expect(code(capture('capture-0032', [{ ...event('a'), eventHash: 'sha256:abc' }]))).toBe('PROVENANCE.INVALID_CAPTURE');
    expect(code(capture('capture-0033', [{ ...event('a'), type: 'Event' }]))).toBe('PROVENANCE.INVALID_CAPTURE');
    expect(code(capture('capture-0034', [{ ...event('a'), eventTime: '2026-12-02 08:00' }]))).toBe('PROVENANCE.INVALID_CAPTURE');
    expect(code(capture('capture-0035', [{ ...event('a'), extra: 1 }]))).toBe('PROVENANCE.INVALID_CAPTURE');
    expect(code({ ...capture('capture-0036', [event('a')]), documentHash: 'x' })).toBe('PROVENANCE.INVALID_CAPTURE');
    expect(code({ ...capture('capture-0037', [event('a')]), context: '{not json' })).toBe('PROVENANCE.INVALID_CAPTURE');
    expect(code(capture('capture-0038', [{ ...event('a'), event: '[1]' }]))).toBe('PROVENANCE.INVALID_CAPTURE');
    // The text must be the event the entry names: another id, type or time in it is refused.
    expect(code(capture('capture-0039', [{ ...event('a'), event: event('b').event }]))).toBe('PROVENANCE.INVALID_CAPTURE');
    expect(code(capture('capture-0040', [{ ...event('a'), event: event('a').event.replace('"ObjectEvent"', '"AggregationEvent"') }]))).toBe('PROVENANCE.INVALID_CAPTURE');
    expect(code({ ...capture('capture-0041', [event('a')]), context: null })).toBe('VALID');
  });
});

describe('provenance.private.purge', () => {
  const c1 = 'a'.repeat(64);
  const c2 = 'b'.repeat(64);
  const privateEvent = (seed: string, refs: unknown) => {
    const e = event(seed);
    const body = JSON.parse(e.event) as Record<string, unknown>;
    return { ...e, event: JSON.stringify({ ...body, 'alliance:privateData': refs }) };
  };
  const purge = (payload: Record<string, unknown>, org = 'org1', key = org1) => signed(org, key, 'provenance.private.purge', payload);

  it('anchors the commitments an event states and records each purge once, by the capturing organization only', () => {
    const chain = new Chain();
    const e = privateEvent('p1', [
      { commitment: c1, fields: ['bizTransactionList'], readers: ['org2'] },
      { commitment: c2, fields: ['ilmd'], readers: [] },
    ]);
    expect(chain.run(signed('org1', org1, 'provenance.epcis.capture', capture('capture-p001', [e])))[0].code).toBe('VALID');
    expect(chain.state.get(eventKeyOf(e.eventId))?.value).toMatchObject({ privateCommitments: [c1, c2] });

    expect(chain.run(purge({ eventId: e.eventId, commitments: [c1], reason: 'contract ended' }, 'org2', org2))[0].code).toBe('PROVENANCE.NOT_OWNER');
    expect(chain.run(purge({ eventId: e.eventId, commitments: ['c'.repeat(64)], reason: 'x' }))[0].code).toBe('PROVENANCE.PRIVATE_DATA_NOT_FOUND');
    expect(chain.run(purge({ eventId: 'urn:uuid:6f1a2b3c-0000-4000-8000-00000000ffff', commitments: [c1], reason: 'x' }))[0].code).toBe('PROVENANCE.EVENT_NOT_FOUND');
    expect(chain.run(purge({ eventId: e.eventId, commitments: [c1], reason: '' }))[0].code).toBe('PROVENANCE.INVALID_PURGE');
    expect(chain.run(purge({ eventId: e.eventId, commitments: [c1, c1], reason: 'x' }))[0].code).toBe('PROVENANCE.INVALID_PURGE');

    const [ok] = chain.run(purge({ eventId: e.eventId, commitments: [c1], reason: 'contract ended' }));
    expect(ok.code).toBe('VALID');
    expect(chain.state.get(privatePurgeKeyOf(c1))?.value).toMatchObject({ eventId: e.eventId, commitment: c1, organizationId: 'org1', reason: 'contract ended', purgedAt: time });
    expect(chain.state.get(privatePurgeKeyOf(c2))).toBeUndefined();
    expect(chain.run(purge({ eventId: e.eventId, commitments: [c1], reason: 'again' }))[0].code).toBe('PROVENANCE.ALREADY_PURGED');
  });

  it('refuses an event whose private-data references are malformed', () => {
    const chain = new Chain();
    for (const [i, refs] of [[], [{ commitment: 'xyz', fields: [], readers: [] }], [{ commitment: c1, fields: [], readers: [] }, { commitment: c1, fields: [], readers: [] }], 'c1'].entries()) {
      expect(chain.run(signed('org1', org1, 'provenance.epcis.capture', capture(`capture-bad${i}`, [privateEvent(`bad${i}`, refs)])))[0].code).toBe('PROVENANCE.INVALID_CAPTURE');
    }
  });
});
