import { describe, expect, it } from 'vitest';
import vectors from '../test-vectors/canonical-json.json';
import { MAX_JSON_DEPTH, canonicalBytes, canonicalize, parseCanonical } from './canonical-json';
import { fromHex, toHex, utf8 } from './encoding';
import { ProtocolError } from './errors';

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (error) {
    if (error instanceof ProtocolError) return error.code;
    throw error;
  }
}

describe('canonicalize (RFC 8785)', () => {
  for (const v of vectors.canonicalize) {
    it(v.name, () => {
      const mode = v.mode as 'jcs' | 'integers';
      expect(canonicalize(JSON.parse(v.input), { numbers: mode })).toBe(v.canonical);
      expect(toHex(canonicalBytes(JSON.parse(v.input), { numbers: mode }))).toBe(v.canonicalHex);
    });
  }

  for (const v of vectors.reject) {
    it(`rejects ${v.name}`, () => {
      expect(codeOf(() => canonicalize(JSON.parse(v.input), { numbers: v.mode as 'jcs' | 'integers' }))).toBe(v.error);
    });
  }

  it('rejects what JSON cannot carry instead of dropping it', () => {
    const bad: unknown[] = [undefined, () => 1, Symbol('x'), 1n, NaN, Infinity, new Date(0), new Map(), new Uint8Array(1), { a: undefined }, [undefined]];
    for (const value of bad) expect(codeOf(() => canonicalize(value, { numbers: 'jcs' }))).toBe('PROTOCOL.UNSUPPORTED_VALUE');
    // eslint-disable-next-line no-sparse-arrays
    expect(codeOf(() => canonicalize([1, , 3]))).toBe('PROTOCOL.UNSUPPORTED_VALUE');
    class Money {
      amount = 1;
    }
    expect(codeOf(() => canonicalize(new Money()))).toBe('PROTOCOL.UNSUPPORTED_VALUE');
    expect(canonicalize(Object.assign(Object.create(null) as object, { b: 1, a: 2 }))).toBe('{"a":2,"b":1}');
  });

  it('names the offending field', () => {
    try {
      canonicalize({ payload: { items: [{ price: 1.5 }] } });
      expect.unreachable();
    } catch (error) {
      expect((error as ProtocolError).field).toBe('/payload/items/0/price');
    }
  });

  it('sorts by UTF-16 code units even where code points disagree', () => {
    // U+10000 is D800 DC00 in UTF-16: before U+E000 by code unit, after it by code point.
    expect(canonicalize({ '\u{10000}': 1, '\ue000': 2 })).toBe('{"\u{10000}":1,"\ue000":2}');
  });

  it(`allows ${MAX_JSON_DEPTH} levels of nesting and no more`, () => {
    let ok: unknown = 0;
    for (let i = 0; i < MAX_JSON_DEPTH; i++) ok = [ok];
    expect(() => canonicalize(ok)).not.toThrow();
    expect(codeOf(() => canonicalize([ok]))).toBe('PROTOCOL.TOO_DEEP');
  });
});

describe('parseCanonical', () => {
  for (const v of vectors.parse) {
    it(`${v.error === null ? 'accepts' : 'rejects'} ${v.name}`, () => {
      expect(codeOf(() => parseCanonical(fromHex(v.bytesHex)))).toBe(v.error);
    });
  }

  it('round-trips whatever canonicalize produces', () => {
    const values = [
      { chainId: 'x', list: [1, -2, 'három', null, true, { '': [] }], '\u{1f600}': '\u2028\u0000' },
      [],
      'only a string',
      0,
      -9007199254740991,
      null,
    ];
    for (const value of values) expect(parseCanonical(canonicalBytes(value))).toEqual(value);
  });

  it('rejects every single-byte change to a canonical document that is not itself canonical', () => {
    const bytes = canonicalBytes({ a: [1, 'x'], b: { c: null, d: true } });
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const copy = bytes.slice();
        copy[i] ^= 1 << bit;
        let parsed: unknown;
        try {
          parsed = parseCanonical(copy);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
          continue;
        }
        // Accepted only if it is canonical for a different value.
        expect(toHex(canonicalBytes(parsed))).toBe(toHex(copy));
      }
    }
  });

  it('rejects non-bytes input with a typed error', () => {
    expect(codeOf(() => parseCanonical('{}' as unknown as Uint8Array))).toBe('PROTOCOL.MALFORMED_JSON');
    expect(codeOf(() => parseCanonical(utf8(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)))).toMatch(/PROTOCOL\.(TOO_DEEP|MALFORMED_JSON)/);
  });
});
