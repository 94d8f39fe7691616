import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, toHex, utf8 } from './encoding';
import { portableSha256, sha256, sha256Concat } from './hash';

describe('sha256', () => {
  it('matches the FIPS 180-4 examples', () => {
    expect(toHex(sha256(new Uint8Array()))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(toHex(sha256(utf8('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(toHex(sha256(utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  it('node:crypto and the portable implementation agree on any input, and return a plain 32-byte Uint8Array', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (data) => {
        const fast = sha256(data);
        expect(fast.constructor).toBe(Uint8Array);
        expect(fast.length).toBe(32);
        expect(toHex(fast)).toBe(toHex(portableSha256(data)));
      }),
      { numRuns: 300 },
    );
  });

  it('sha256Concat hashes the concatenation of its parts', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 5 }), (parts) => {
        expect(toHex(sha256Concat(...parts))).toBe(toHex(portableSha256(concatBytes(...parts))));
      }),
      { numRuns: 200 },
    );
  });
});
