import { describe, expect, it } from 'vitest';
import { canonicalBytes, canonicalize } from './canonical-json';
import { fromHex, toBase64Url, utf8 } from './encoding';
import { ProtocolError } from './errors';
import { SignatureAlgorithm, generateKeyPair, keyId } from './keys';
import { nodeVerify } from './node-verify';
import {
  Envelope,
  MAX_ENVELOPE_BYTES,
  Transaction,
  decodeEnvelope,
  decodeEnvelopeParts,
  encodeEnvelope,
  encodeEnvelopeValue,
  signTransaction,
  transactionId,
  validateTransaction,
  verifyEnvelope,
} from './transaction';
import { formatTimestamp, parseTimestamp } from './validate';

const creatorKey = generateKeyPair('ed25519');

function tx(overrides: Record<string, unknown> = {}): Transaction {
  return {
    chainId: 'alliance-main',
    type: 'ledger.anchor',
    creator: { organizationId: 'org1', keyId: keyId('ed25519', creatorKey.publicKey) },
    nonce: 'n-0001',
    timestamp: '2026-11-25T20:00:00.000Z',
    payload: { hash: 'ab'.repeat(32), amountMinor: 1250000 },
    ...overrides,
  } as Transaction;
}

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (error) {
    if (error instanceof ProtocolError) return error.code;
    throw error;
  }
}

const signed = () => signTransaction(tx(), { algorithm: 'ed25519', privateKey: creatorKey.privateKey });
const wire = (value: unknown) => canonicalBytes(value);

describe('transactions and envelopes', () => {
  it('transactionId is the hex SHA-256 of the canonical transaction, independent of member order', () => {
    const a = tx();
    const reordered = JSON.parse(JSON.stringify({ payload: a.payload, timestamp: a.timestamp, nonce: a.nonce, creator: a.creator, type: a.type, chainId: a.chainId })) as Transaction;
    expect(transactionId(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(transactionId(reordered)).toBe(transactionId(a));
    expect(transactionId(tx({ nonce: 'n-0002' }))).not.toBe(transactionId(a));
  });

  for (const algorithm of ['ed25519', 'ecdsa-p256', 'ecdsa-secp256k1'] as SignatureAlgorithm[]) {
    it(`${algorithm}: sign, encode, decode, verify with both verifiers`, () => {
      const key = generateKeyPair(algorithm);
      const t = tx({ creator: { organizationId: 'org1', keyId: keyId(algorithm, key.publicKey) } });
      const envelope = signTransaction(t, key);
      const bytes = encodeEnvelope(envelope);
      const decoded = decodeEnvelope(bytes);
      expect(decoded).toEqual(envelope);
      expect(verifyEnvelope(decoded, key.publicKey)).toBe(true);
      expect(verifyEnvelope(decoded, key.publicKey, { verifier: nodeVerify })).toBe(true);
      expect(verifyEnvelope(decoded, generateKeyPair(algorithm).publicKey)).toBe(false); // a key the keyId does not name
    });
  }

  it('the envelope keeps its own copy of the transaction', () => {
    const t = tx() as unknown as { payload: Record<string, unknown> };
    const envelope = signTransaction(t as unknown as Transaction, creatorKey);
    t.payload['amountMinor'] = 1;
    expect(verifyEnvelope(envelope, creatorKey.publicKey)).toBe(true);
  });

  it('refuses to sign for another key id', () => {
    expect(codeOf(() => signTransaction(tx({ creator: { organizationId: 'org1', keyId: '00'.repeat(16) } }), creatorKey))).toBe('PROTOCOL.KEY_ID_MISMATCH');
  });

  it('a changed transaction, signature, algorithm or key id does not verify', () => {
    const envelope = signed();
    const changed = (e: unknown) => verifyEnvelope(e as Envelope, creatorKey.publicKey);
    expect(changed({ ...envelope, transaction: { ...envelope.transaction, nonce: 'n-0002' } })).toBe(false);
    const sig = fromHex('00'.repeat(64));
    expect(changed({ ...envelope, signature: { ...envelope.signature, value: toBase64Url(sig) } })).toBe(false);
    expect(changed({ ...envelope, signature: { ...envelope.signature, algorithm: 'ecdsa-p256' } })).toBe(false);
    expect(changed({ ...envelope, extra: 1 })).toBe(false);
    expect(changed(null)).toBe(false);
    expect(verifyEnvelope(envelope, 'key' as unknown as Uint8Array)).toBe(false);
  });
});

describe('decodeEnvelope: strict, with stable codes', () => {
  const envelope = signed();
  const base = JSON.parse(canonicalize(envelope)) as { transaction: Record<string, unknown>; signature: Record<string, unknown> };
  const withTx = (over: Record<string, unknown>) => wire({ ...base, transaction: { ...base.transaction, ...over } });
  const withSig = (over: Record<string, unknown>) => wire({ ...base, signature: { ...base.signature, ...over } });
  const without = (obj: Record<string, unknown>, key: string) => Object.fromEntries(Object.entries(obj).filter(([k]) => k !== key));

  const cases: [string, Uint8Array, string][] = [
    ['not UTF-8', new Uint8Array([0xff]), 'PROTOCOL.MALFORMED_JSON'],
    ['not JSON', utf8('{"transaction":'), 'PROTOCOL.MALFORMED_JSON'],
    ['pretty-printed', utf8(JSON.stringify(base, null, 1)), 'PROTOCOL.NON_CANONICAL'],
    ['members out of order', utf8(JSON.stringify({ transaction: base.transaction, signature: base.signature })), 'PROTOCOL.NON_CANONICAL'],
    ['trailing newline', utf8(`${canonicalize(base)}\n`), 'PROTOCOL.NON_CANONICAL'],
    ['a fraction in the payload', utf8(canonicalize({ ...base, transaction: { ...base.transaction, payload: { amount: 15 } } }).replace('"amount":15', '"amount":1.5')), 'PROTOCOL.NUMBER_NOT_ALLOWED'],
    ['not an object', wire([base]), 'PROTOCOL.MALFORMED_ENVELOPE'],
    ['an extra envelope field', wire({ ...base, note: 'x' }), 'PROTOCOL.MALFORMED_ENVELOPE'],
    ['no signature', wire({ transaction: base.transaction }), 'PROTOCOL.MALFORMED_ENVELOPE'],
    ['an extra transaction field', withTx({ memo: 'x' }), 'PROTOCOL.MALFORMED_TRANSACTION'],
    ['a missing transaction field', wire({ ...base, transaction: without(base.transaction, 'nonce') }), 'PROTOCOL.MALFORMED_TRANSACTION'],
    ['chainId with a slash', withTx({ chainId: 'a/b' }), 'PROTOCOL.MALFORMED_TRANSACTION'],
    ['chainId with a newline', withTx({ chainId: 'a\nb' }), 'PROTOCOL.MALFORMED_TRANSACTION'],
    ['upper-case chainId', withTx({ chainId: 'Main' }), 'PROTOCOL.MALFORMED_TRANSACTION'],
    ['type not dotted words', withTx({ type: 'Ledger Anchor' }), 'PROTOCOL.MALFORMED_TRANSACTION'],
    ['payload an array', withTx({ payload: [] }), 'PROTOCOL.MALFORMED_TRANSACTION'],
    ['payload null', withTx({ payload: null }), 'PROTOCOL.MALFORMED_TRANSACTION'],
    ['creator keyId upper case', withTx({ creator: { organizationId: 'org1', keyId: 'AB'.repeat(16) } }), 'PROTOCOL.MALFORMED_TRANSACTION'],
    ['empty nonce', withTx({ nonce: '' }), 'PROTOCOL.BAD_NONCE'],
    ['65-character nonce', withTx({ nonce: 'a'.repeat(65) }), 'PROTOCOL.BAD_NONCE'],
    ['nonce with a dot', withTx({ nonce: 'a.b' }), 'PROTOCOL.BAD_NONCE'],
    ['timestamp without milliseconds', withTx({ timestamp: '2026-11-25T20:00:00Z' }), 'PROTOCOL.BAD_TIMESTAMP'],
    ['timestamp with an offset', withTx({ timestamp: '2026-11-25T21:00:00.000+01:00' }), 'PROTOCOL.BAD_TIMESTAMP'],
    ['timestamp with microseconds', withTx({ timestamp: '2026-11-25T20:00:00.000000Z' }), 'PROTOCOL.BAD_TIMESTAMP'],
    ['lower-case z', withTx({ timestamp: '2026-11-25T20:00:00.000z' }), 'PROTOCOL.BAD_TIMESTAMP'],
    ['February 30', withTx({ timestamp: '2026-02-30T20:00:00.000Z' }), 'PROTOCOL.BAD_TIMESTAMP'],
    ['hour 24', withTx({ timestamp: '2026-11-25T24:00:00.000Z' }), 'PROTOCOL.BAD_TIMESTAMP'],
    ['a leap second', withTx({ timestamp: '2016-12-31T23:59:60.000Z' }), 'PROTOCOL.BAD_TIMESTAMP'],
    ['timestamp a number', withTx({ timestamp: 1764100800000 }), 'PROTOCOL.BAD_TIMESTAMP'],
    ['an unknown algorithm', withSig({ algorithm: 'rsa' }), 'PROTOCOL.UNSUPPORTED_ALGORITHM'],
    ['signature keyId differing from creator.keyId', withSig({ keyId: '00'.repeat(16) }), 'PROTOCOL.KEY_ID_MISMATCH'],
    ['signature in standard base64', withSig({ value: `${String(base.signature['value']).replace(/-/g, '+').replace(/_/g, '/')}==` }), 'PROTOCOL.MALFORMED_ENVELOPE'],
    ['signature of 63 bytes', withSig({ value: toBase64Url(new Uint8Array(63)) }), 'PROTOCOL.MALFORMED_ENVELOPE'],
    ['an extra signature field', withSig({ publicKey: 'x' }), 'PROTOCOL.MALFORMED_ENVELOPE'],
  ];
  for (const [name, bytes, code] of cases) {
    it(`rejects ${name} with ${code}`, () => {
      expect(codeOf(() => decodeEnvelope(bytes))).toBe(code);
    });
  }

  it('accepts the canonical bytes and nothing longer than the limit', () => {
    expect(decodeEnvelope(encodeEnvelope(envelope))).toEqual(envelope);
    expect(codeOf(() => decodeEnvelope(encodeEnvelope(envelope), { maxBytes: 100 }))).toBe('PROTOCOL.TOO_LARGE');
    expect(codeOf(() => decodeEnvelope(new Uint8Array(MAX_ENVELOPE_BYTES + 1)))).toBe('PROTOCOL.TOO_LARGE');
    expect(codeOf(() => decodeEnvelope('x' as unknown as Uint8Array))).toBe('PROTOCOL.MALFORMED_ENVELOPE');
  });

  it('reports the field', () => {
    try {
      decodeEnvelope(withTx({ timestamp: 'yesterday' }));
      expect.unreachable();
    } catch (error) {
      expect((error as ProtocolError).field).toBe('/transaction/timestamp');
    }
  });

  it('validateTransaction applies the value rules to the payload', () => {
    expect(codeOf(() => validateTransaction(tx({ payload: { when: new Date() } })))).toBe('PROTOCOL.UNSUPPORTED_VALUE');
    expect(codeOf(() => validateTransaction(tx({ payload: { big: 2 ** 60 } })))).toBe('PROTOCOL.NUMBER_NOT_ALLOWED');
  });
});

describe('timestamps', () => {
  it('format and parse the one protocol spelling', () => {
    expect(formatTimestamp(Date.UTC(2026, 10, 25, 20))).toBe('2026-11-25T20:00:00.000Z');
    expect(parseTimestamp('2026-11-25T20:00:00.250Z')).toBe(Date.UTC(2026, 10, 25, 20, 0, 0, 250));
    expect(() => parseTimestamp('2026-11-25')).toThrow();
    expect(() => formatTimestamp(8.64e15)).toThrow(); // year 275760
  });
});

describe('decodeEnvelopeParts', () => {
  it('gives the canonical transaction bytes and the id without re-serialising, for any payload', () => {
    for (const payload of [{}, { hash: 'ab'.repeat(32) }, { text: 'quote " and \\ and \u2028 and 中文', nested: { list: [1, -2, null, true, 'x'] } }]) {
      const envelope = signTransaction(tx({ payload }), { algorithm: 'ed25519', privateKey: creatorKey.privateKey });
      const parts = decodeEnvelopeParts(encodeEnvelope(envelope));
      expect(parts.envelope).toEqual(envelope);
      expect(parts.transactionBytes).toEqual(canonicalBytes(envelope.transaction));
      expect(parts.transactionId).toBe(transactionId(envelope.transaction));
    }
  });

  it('encodeEnvelopeValue gives what decoding the canonical bytes gives, and refuses what they would refuse', () => {
    const envelope = signTransaction(tx({ payload: { b: 1, a: [true, null, 'ü'] } }), { algorithm: 'ed25519', privateKey: creatorKey.privateKey });
    // Parsed JSON with members in another order, as an HTTP body would arrive.
    const value = JSON.parse(JSON.stringify({ transaction: { ...envelope.transaction }, signature: envelope.signature }));
    const encoded = encodeEnvelopeValue(value);
    expect(encoded.bytes).toEqual(encodeEnvelope(envelope));
    expect(encoded.decoded).toEqual(decodeEnvelopeParts(encoded.bytes));
    const extra = JSON.parse(JSON.stringify({ ...envelope, extra: 1 }));
    expect(codeOf(() => encodeEnvelopeValue(extra))).toBe(codeOf(() => decodeEnvelope(canonicalBytes(extra))));
    const float = JSON.parse(JSON.stringify({ ...envelope, transaction: { ...envelope.transaction, payload: { x: 1.5 } } }));
    expect(codeOf(() => encodeEnvelopeValue(float))).toBe('PROTOCOL.NUMBER_NOT_ALLOWED');
    const big = JSON.parse(JSON.stringify({ ...envelope, transaction: { ...envelope.transaction, payload: { x: 'y'.repeat(MAX_ENVELOPE_BYTES) } } }));
    expect(codeOf(() => encodeEnvelopeValue(big))).toBe(codeOf(() => decodeEnvelope(canonicalBytes(big))));
  });

  it('refuses exactly what decodeEnvelope refuses', () => {
    const bytes = encodeEnvelope(signTransaction(tx(), { algorithm: 'ed25519', privateKey: creatorKey.privateKey }));
    const spaced = utf8(new TextDecoder().decode(bytes).replace('{"signature":', '{ "signature":'));
    expect(codeOf(() => decodeEnvelopeParts(spaced))).toBe(codeOf(() => decodeEnvelope(spaced)));
    expect(codeOf(() => decodeEnvelopeParts(spaced))).not.toBeNull();
    const trailing = new Uint8Array([...bytes, 0x20]);
    expect(codeOf(() => decodeEnvelopeParts(trailing))).toBe(codeOf(() => decodeEnvelope(trailing)));
  });
});
