import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConsortiumMember } from '@alliance/sdk';
import { checkReceipt } from './receipts';

// docs/protocol.md §10 worked example: a real receipt of block 1 certified by org1..org3.
const example = JSON.parse(readFileSync(resolve(__dirname, '../../../../libs/protocol/test-vectors/worked-example.json'), 'utf8')) as {
  receipt: { transactionId: string; block: { header: { blockNumber: number }; signatures: Array<{ value: string }> } };
  keys: { members: Array<ConsortiumMember & { privateKey: string }> };
};
const members: ConsortiumMember[] = example.keys.members.map(({ organizationId, algorithm, publicKey }) => ({ organizationId, algorithm, publicKey }));
const { receipt } = example;
const id = receipt.transactionId;
const n = receipt.block.header.blockNumber;

describe('checkReceipt (the green check)', () => {
  it('verifies a genuine receipt against the pinned members', () => {
    expect(checkReceipt(receipt, members, id, n)).toEqual({ state: 'verified', certifiedBy: ['org1', 'org2', 'org3'] });
  });

  it('fails a receipt whose header signature was changed', () => {
    const changed = structuredClone(receipt);
    const value = changed.block.signatures[0].value;
    changed.block.signatures[0].value = `${value[0] === 'A' ? 'B' : 'A'}${value.slice(1)}`;
    const check = checkReceipt(changed, members, id, n);
    expect(check.state).toBe('failed');
  });

  it('fails when the pinned members are not the ones who signed (a receipt naming its own keys)', () => {
    const strangers = members.map((m, i) => ({ ...m, publicKey: members[(i + 1) % members.length].publicKey }));
    expect(checkReceipt(receipt, strangers, id, n).state).toBe('failed');
  });

  it('fails a valid receipt of another transaction or block, a missing receipt, and no members', () => {
    expect(checkReceipt(receipt, members, '0'.repeat(64), n)).toMatchObject({ state: 'failed', why: expect.stringContaining(`for transaction ${id}`) });
    expect(checkReceipt(receipt, members, id, n + 1)).toMatchObject({ state: 'failed', why: expect.stringContaining(`in block ${n}`) });
    expect(checkReceipt(undefined, members, id, n)).toMatchObject({ state: 'failed', why: expect.stringContaining('no receipt') });
    expect(checkReceipt(receipt, [], id, n).state).toBe('failed');
  });
});
