import { describe, expect, it } from 'vitest';
import { TEST_KEYS, buildWorkedExample } from '../scripts/worked-example';
import { ConsortiumMember, signHeader } from './block';
import { canonicalize } from './canonical-json';
import { fromHex, toHex, utf8 } from './encoding';
import { Verifier, publicKeyOf } from './keys';
import { nodeVerify } from './node-verify';
import { Receipt, encodeReceipt, verifyReceipt } from './receipt';

const ex = buildWorkedExample().vectors as { receipt: Receipt; receiptCanonical: string; keys: { members: ConsortiumMember[] } };
const receipt = ex.receipt;
const members = receipt.members;
const pins = { trustedMembers: members, trustedPolicy: receipt.policy, chainId: 'alliance-main' };
const bytes = encodeReceipt(receipt);

function reasonOf(value: unknown, options = {}): string {
  const v = verifyReceipt(value, options);
  return v.ok ? 'ok' : v.reason;
}

/** nodeVerify, except that no transaction signature verifies. */
const rejectTransactions: Verifier = (algorithm, publicKey, domain, message, signature) =>
  domain !== 'alliance/transaction/v1' && nodeVerify(algorithm, publicKey, domain, message, signature);

type Obj = Record<string, unknown>;
const obj = (v: unknown) => v as Obj;
const arr = (v: unknown) => v as unknown[];

/** A deep copy with one change. */
function edit(change: (r: Obj) => void): unknown {
  const copy = JSON.parse(canonicalize(receipt)) as Obj;
  change(copy);
  return copy;
}

describe('verifyReceipt', () => {
  it('accepts the worked-example receipt as an object, canonical bytes or text, with either verifier', () => {
    const expected = { ok: true, transactionId: receipt.transactionId, code: 'VALID', blockNumber: 1, leafIndex: 2, certifiedBy: ['org1', 'org2', 'org3'] };
    expect(verifyReceipt(receipt)).toMatchObject(expected);
    expect(verifyReceipt(bytes, pins)).toMatchObject(expected);
    expect(verifyReceipt(ex.receiptCanonical, { ...pins, verifier: nodeVerify })).toMatchObject(expected);
  });

  it('accepts only the canonical serialization (one receipt, one byte string)', () => {
    expect(reasonOf(JSON.stringify(receipt, null, 2))).toBe('PROTOCOL.NON_CANONICAL');
    expect(reasonOf(utf8(`${ex.receiptCanonical} `))).toBe('PROTOCOL.NON_CANONICAL');
    const duplicated = ex.receiptCanonical.replace('{"block":', `{"block":${canonicalize(receipt.block)},"block":`);
    expect(reasonOf(duplicated)).toBe('PROTOCOL.NON_CANONICAL');
  });

  it('names what is wrong', () => {
    const otherTx = JSON.parse(canonicalize(receipt.envelope)) as Obj;
    obj(otherTx['transaction'])['nonce'] = 'inv-2026-0003';
    const cases: [string, unknown, string, object?][] = [
      ['version 2', edit((r) => (r['version'] = 2)), 'PROTOCOL.MALFORMED_RECEIPT'],
      ['an unknown field', edit((r) => (r['comment'] = 'x')), 'PROTOCOL.MALFORMED_RECEIPT'],
      ['another transaction id', edit((r) => (r['transactionId'] = '00'.repeat(32))), 'PROTOCOL.TRANSACTION_ID_MISMATCH'],
      ['a changed transaction', edit((r) => (r['envelope'] = otherTx)), 'PROTOCOL.TRANSACTION_ID_MISMATCH'],
      ['the result of another transaction', edit((r) => (obj(r['result'])['transactionId'] = '00'.repeat(32))), 'PROTOCOL.TRANSACTION_ID_MISMATCH'],
      ['another creator key', edit((r) => (obj(r['creatorKey'])['publicKey'] = members[0].publicKey)), 'PROTOCOL.KEY_ID_MISMATCH'],
      ['a leaf outside the block', edit((r) => (r['leafIndex'] = 0)), 'PROTOCOL.LEAF_OUTSIDE_BLOCK'],
      ['a neighbouring leaf index', edit((r) => (r['leafIndex'] = 3)), 'PROTOCOL.BAD_INCLUSION_PROOF'],
      ['a truncated log proof', edit((r) => arr(r['inclusionProof']).pop()), 'PROTOCOL.BAD_INCLUSION_PROOF'],
      ['an extended log proof', edit((r) => arr(r['inclusionProof']).push('00'.repeat(32))), 'PROTOCOL.BAD_INCLUSION_PROOF'],
      ['a result with other writes', edit((r) => (obj(arr(obj(r['result'])['writes'])[0])['version'] = 2)), 'PROTOCOL.BAD_RESULT_PROOF'],
      ['a result marked invalid', edit((r) => (r['result'] = { ...obj(r['result']), code: 'LEDGER.REJECTED', writes: [] })), 'PROTOCOL.BAD_RESULT_PROOF'],
      ['a wrong result index', edit((r) => (obj(r['resultInclusion'])['index'] = 0)), 'PROTOCOL.BAD_RESULT_PROOF'],
      ['a wrong data proof', edit((r) => (obj(r['dataInclusion'])['proof'] = obj(r['resultInclusion'])['proof'])), 'PROTOCOL.BAD_DATA_PROOF'],
      ['another chain expected', receipt, 'PROTOCOL.CHAIN_MISMATCH', { chainId: 'alliance-test' }],
      ['a changed header', edit((r) => (obj(obj(r['block'])['header'])['timestamp'] = '2026-11-25T20:00:01.001Z')), 'PROTOCOL.BAD_HEADER_SIGNATURE'],
      ['one signature too few for the policy', edit((r) => arr(obj(r['block'])['signatures']).splice(1)), 'PROTOCOL.NOT_CERTIFIED'],
      ['a signature by a non-member', edit((r) => (obj(arr(obj(r['block'])['signatures'])[2])['organizationId'] = 'org4')), 'PROTOCOL.BAD_HEADER_SIGNATURE'],
      ['a member listed twice', edit((r) => arr(r['members']).push(arr(r['members'])[0])), 'PROTOCOL.MALFORMED_MEMBERS'],
      ['members other than the pinned ones', receipt, 'PROTOCOL.MEMBERS_MISMATCH', { trustedMembers: members.slice(0, 2) }],
      ['a policy other than the pinned one', receipt, 'PROTOCOL.POLICY_MISMATCH', { trustedPolicy: { type: 'all' } }],
      // A changed signature changes the leaf, so it fails inclusion first; an envelope committed
      // with a bad signature (written straight to the ordering log) fails at the signature.
      ['a changed envelope signature', edit((r) => (obj(obj(r['envelope'])['signature'])['value'] = `A${String(obj(obj(r['envelope'])['signature'])['value']).slice(1)}`)), 'PROTOCOL.BAD_INCLUSION_PROOF'],
      ['an included envelope whose signature does not verify', receipt, 'PROTOCOL.BAD_ENVELOPE_SIGNATURE', { verifier: rejectTransactions }],
      ['not an object', 'null', 'PROTOCOL.MALFORMED_RECEIPT'],
      ['not JSON', utf8('{'), 'PROTOCOL.MALFORMED_JSON'],
    ];
    for (const [name, value, reason, options] of cases) expect(`${name}: ${reasonOf(value, options)}`).toBe(`${name}: ${reason}`);
  });

  it('members and policy must be pinned: a self-consistent receipt with a forged member list verifies only without pins', () => {
    // An attacker's own node key replaces org3's, and a threshold of 1 admits its lone signature.
    const forgedKey = fromHex('11'.repeat(32));
    const forged = edit((r) => {
      obj(arr(r['members'])[2])['publicKey'] = toHex(publicKeyOfSeed(forgedKey));
      r['policy'] = { type: 'threshold', threshold: 1 };
      obj(r['block'])['signatures'] = [signHeader(receipt.block.header, { organizationId: 'org3', privateKey: forgedKey })];
    });
    expect(reasonOf(forged)).toBe('ok');
    expect(reasonOf(forged, { trustedMembers: members })).toBe('PROTOCOL.MEMBERS_MISMATCH');
    expect(reasonOf(forged, { trustedMembers: forgedMembers(forgedKey), trustedPolicy: receipt.policy })).toBe('PROTOCOL.POLICY_MISMATCH');
  });

  it('flipping any single bit of the serialized receipt never verifies (node:crypto verifier, every bit)', { timeout: 300_000 }, () => {
    let parsedStill = 0;
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const copy = bytes.slice();
        copy[i] ^= 1 << bit;
        const verdict = verifyReceipt(copy, { ...pins, verifier: nodeVerify });
        if (verdict.ok) throw new Error(`flipping bit ${bit} of byte ${i} still verifies`);
        if (verdict.reason !== 'PROTOCOL.MALFORMED_JSON') parsedStill++;
      }
    }
    // Plenty of flips leave valid JSON and are caught by the protocol checks, not the parser.
    expect(parsedStill).toBeGreaterThan(bytes.length);
  });

  it('flipping a bit never verifies without pins either (portable verifier, two bits of every byte)', { timeout: 300_000 }, () => {
    for (let i = 0; i < bytes.length; i++) {
      for (const bit of [i % 8, (i * 3 + 5) % 8]) {
        const copy = bytes.slice();
        copy[i] ^= 1 << bit;
        if (verifyReceipt(copy).ok) throw new Error(`flipping bit ${bit} of byte ${i} still verifies`);
      }
    }
  });

  it('the worked-example receipt is the canonical form the vectors carry', () => {
    expect(new TextDecoder().decode(bytes)).toBe(ex.receiptCanonical);
    expect(TEST_KEYS.creator.name).toBe('RFC 8032 TEST 1');
  });
});

function publicKeyOfSeed(seed: Uint8Array): Uint8Array {
  return publicKeyOf('ed25519', seed);
}
function forgedMembers(seed: Uint8Array): ConsortiumMember[] {
  return members.map((m, i) => (i === 2 ? { ...m, publicKey: toHex(publicKeyOfSeed(seed)) } : m));
}
