import { describe, expect, it } from 'vitest';
import { fromBase64, fromBase64Url, fromHex, isHex, portableToHex, toBase64, toBase64Url, toHex } from './encoding';

describe('strict encodings', () => {
  it('matches RFC 4648 §10 test vectors', () => {
    const cases: [string, string][] = [
      ['', ''],
      ['f', 'Zg=='],
      ['fo', 'Zm8='],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg=='],
      ['fooba', 'Zm9vYmE='],
      ['foobar', 'Zm9vYmFy'],
    ];
    for (const [text, b64] of cases) {
      const bytes = new TextEncoder().encode(text);
      expect(toBase64(bytes)).toBe(b64);
      expect(toBase64Url(bytes)).toBe(b64.replace(/=+$/, ''));
      expect(fromBase64(b64)).toEqual(bytes);
      expect(fromBase64Url(b64.replace(/=+$/, ''))).toEqual(bytes);
    }
  });

  it('agrees with Node for random bytes, both alphabets', () => {
    for (let n = 0; n < 70; n++) {
      const bytes = crypto.getRandomValues(new Uint8Array(n));
      expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
      expect(toBase64Url(bytes)).toBe(Buffer.from(bytes).toString('base64url'));
      expect(toHex(bytes)).toBe(Buffer.from(bytes).toString('hex'));
      // The Buffer fast path and the browser loop agree, on views into larger buffers too.
      const view = new Uint8Array(bytes.length + 7).subarray(3, 3 + bytes.length);
      view.set(bytes);
      expect(toHex(view)).toBe(portableToHex(bytes));
      expect(fromHex(toHex(view))).toEqual(bytes);
      expect(fromHex(toHex(view)).constructor).toBe(Uint8Array);
    }
    expect(() => fromHex('AB'.repeat(20))).toThrow(); // upper case refused on both paths
    expect(() => fromHex('ab'.repeat(20) + 'g')).toThrow();
  });

  it('accepts exactly one text per byte string', () => {
    expect(() => fromBase64('Zh==')).toThrow(/padding bits/); // 'f' with a non-zero unused bit
    expect(() => fromBase64('Zg')).toThrow(); // padding required
    expect(() => fromBase64('Zg=')).toThrow();
    expect(() => fromBase64('Z===')).toThrow();
    expect(() => fromBase64('Zm9v\n')).toThrow();
    expect(() => fromBase64('Zm-v')).toThrow(); // URL alphabet in standard base64
    expect(() => fromBase64Url('Zg==')).toThrow(); // no padding in base64url
    expect(() => fromBase64Url('Zh')).toThrow();
    expect(() => fromBase64Url('Zm+v')).toThrow();
    expect(() => fromBase64Url('Z')).toThrow();
    expect(() => fromHex('AB')).toThrow(); // lower case only
    expect(() => fromHex('abc')).toThrow();
    expect(() => fromHex('ab', 2)).toThrow();
    expect(isHex('00'.repeat(32), 32)).toBe(true);
    expect(isHex('00'.repeat(31), 32)).toBe(false);
  });
});
