import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair, nodeVerify, sign, SignatureDomain, utf8 } from '@alliance/protocol';
import { type VerifyItem, VerifierPool } from './verifier-pool';

const domain = SignatureDomain.transaction;

function items(count: number): VerifyItem[] {
  const keys = [generateKeyPair('ed25519'), generateKeyPair('ecdsa-p256'), generateKeyPair('ecdsa-secp256k1')];
  return Array.from({ length: count }, (_, i) => {
    const key = keys[i % keys.length];
    const message = utf8(`message ${i}`);
    const signature = sign(key.algorithm, key.privateKey, domain, message);
    // Every third signature is broken by one flipped bit.
    if (i % 3 === 1) signature[i % 64] ^= 1;
    return { algorithm: key.algorithm, publicKey: key.publicKey, domain, message, signature };
  });
}

const expected = (list: VerifyItem[]) => list.map((i) => nodeVerify(i.algorithm, i.publicKey, i.domain, i.message, i.signature));

describe('VerifierPool', () => {
  const pool = new VerifierPool({ threads: 2, maxBatch: 16 });
  afterAll(() => pool.close());

  it('runs on worker threads and gives nodeVerify’s verdict for every item, in order, across split batches', async () => {
    expect(pool.size).toBe(2);
    const list = items(90);
    const verdicts = await pool.verify(list);
    expect(verdicts).toEqual(expected(list));
    expect(verdicts.filter((v) => !v)).toHaveLength(30);
  }, 60_000); // threads load the TypeScript sources through SWC here: seconds to start

  it('coalesces many concurrent single requests and answers each one', async () => {
    const list = items(40);
    const verdicts = await Promise.all(list.map((i) => pool.verifyOne(i)));
    expect(verdicts).toEqual(expected(list));
  });

  it('answers requests in flight when a thread dies, and keeps serving with a fresh one', async () => {
    const dying = new VerifierPool({ threads: 1 });
    const list = items(30);
    const pending = dying.verify(list);
    // Kill the only thread while the request is in flight.
    await (dying as unknown as { threads: Array<{ worker: { terminate(): Promise<number> } }> }).threads[0].worker.terminate();
    expect(await pending).toEqual(expected(list));
    expect(await dying.verify(list.slice(0, 6))).toEqual(expected(list.slice(0, 6)));
    await dying.close();
  }, 60_000);

  it('verifies on the calling thread when configured with no threads', async () => {
    const inline = new VerifierPool({ threads: 0 });
    expect(inline.size).toBe(0);
    const list = items(9);
    expect(await inline.verify(list)).toEqual(expected(list));
  });
});
