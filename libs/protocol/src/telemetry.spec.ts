import { createPrivateKey, sign as nodeSign } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, fromUtf8, toBase64Url, toHex } from './encoding';
import { ProtocolError } from './errors';
import { SignatureDomain, signingInput } from './hash';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithm, generateKeyPair, keyId, normalizeSignature, publicKeyOf, verify } from './keys';
import { nodeVerify } from './node-verify';
import { encodeTelemetryReading, signTelemetryReading, type SignedTelemetry, type TelemetryReading, validateSignedTelemetry, validateTelemetryReading, verifyTelemetrySignature } from './telemetry';

// RFC 8032 TEST 1 key, also used by docs/protocol.md §3.5's example.
const RFC_KEY = fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
const RFC_KEY_ID = keyId('ed25519', publicKeyOf('ed25519', RFC_KEY));

const example: TelemetryReading = {
  deviceId: 'urn:epc:id:giai:0614141.TH-0042',
  organizationId: 'org1',
  keyId: RFC_KEY_ID,
  sequence: 17,
  observedAt: '2026-12-02T08:15:30.250Z',
  readings: [
    { type: 'Temperature', value: '-18.25', uom: 'CEL' },
    { type: 'RelativeHumidity', value: 43, uom: 'P1' },
  ],
};

const codeOf = (f: () => unknown) => {
  try {
    f();
    return 'no error';
  } catch (e) {
    return e instanceof ProtocolError ? e.code : String(e);
  }
};

/** Signs the signing input with node:crypto (OpenSSL), to cross-test noble's signer and verifier. */
function signWithNode(algorithm: SignatureAlgorithm, privateKey: Uint8Array, data: Uint8Array): Uint8Array {
  if (algorithm === 'ed25519') {
    const key = createPrivateKey({ key: Buffer.from(concatBytes(fromHex('302e020100300506032b657004220420'), privateKey)), format: 'der', type: 'pkcs8' });
    return new Uint8Array(nodeSign(null, data, key));
  }
  const curve = algorithm === 'ecdsa-p256' ? p256 : secp256k1;
  const pub = curve.getPublicKey(privateKey, false);
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
  const key = createPrivateKey({ key: { kty: 'EC', crv: algorithm === 'ecdsa-p256' ? 'P-256' : 'secp256k1', d: b64(privateKey), x: b64(pub.slice(1, 33)), y: b64(pub.slice(33)) }, format: 'jwk' });
  return normalizeSignature(algorithm, new Uint8Array(nodeSign('sha256', data, { key, dsaEncoding: 'ieee-p1363' })));
}

describe('device telemetry bytes', () => {
  it('the signed message is the canonical reading (docs/protocol.md §3.5 example, byte for byte)', () => {
    expect(fromUtf8(encodeTelemetryReading(example))).toBe(
      `{"deviceId":"urn:epc:id:giai:0614141.TH-0042","keyId":"${RFC_KEY_ID}","observedAt":"2026-12-02T08:15:30.250Z","organizationId":"org1","readings":[{"type":"Temperature","uom":"CEL","value":"-18.25"},{"type":"RelativeHumidity","uom":"P1","value":43}],"sequence":17}`,
    );
    const signed = signTelemetryReading(example, { algorithm: 'ed25519', privateKey: RFC_KEY });
    // Ed25519 is deterministic: the example signature in the docs is this one.
    expect(signed.signature).toEqual({ algorithm: 'ed25519', keyId: RFC_KEY_ID, value: 'XLkB4PVTCWm7-KOUoRZlmzakLd97niz7ZuU0_u2lCsBc7wuI2GRoAugGh3Tm74OKCzLExFigQVyCZkgfhV4rDQ' });
    expect(toHex(signingInput(SignatureDomain.deviceTelemetry, new Uint8Array())).slice(0, 58)).toBe('616c6c69616e63652f6465766963652d74656c656d657472792f763100');
  });

  it('refuses what would make the bytes ambiguous or platform-dependent', () => {
    const bad: Array<[string, unknown]> = [
      ['float value', { ...example, readings: [{ type: 'Temperature', value: -18.25, uom: 'CEL' }] }],
      ['exponent', { ...example, readings: [{ type: 'Temperature', value: '1e3', uom: 'CEL' }] }],
      ['leading zero', { ...example, readings: [{ type: 'Temperature', value: '007', uom: 'CEL' }] }],
      ['negative zero', { ...example, readings: [{ type: 'Temperature', value: '-0.0', uom: 'CEL' }] }],
      ['trailing dot', { ...example, readings: [{ type: 'Temperature', value: '5.', uom: 'CEL' }] }],
      ['lower-case unit', { ...example, readings: [{ type: 'Temperature', value: '5', uom: 'cel' }] }],
      ['gs1: prefix (the short name is the one spelling)', { ...example, readings: [{ type: 'gs1:Temperature', value: '5', uom: 'CEL' }] }],
      ['GS1 vocabulary URI', { ...example, readings: [{ type: 'https://gs1.org/voc/Temperature', value: '5', uom: 'CEL' }] }],
      ['extra measurement field', { ...example, readings: [{ type: 'Temperature', value: '5', uom: 'CEL', note: 'x' }] }],
      ['no measurements', { ...example, readings: [] }],
      ['65 measurements', { ...example, readings: Array.from({ length: 65 }, () => ({ type: 'Temperature', value: 1, uom: 'CEL' })) }],
      ['local time', { ...example, observedAt: '2026-12-02T16:15:30.250+08:00' }],
      ['no milliseconds', { ...example, observedAt: '2026-12-02T08:15:30Z' }],
      ['negative sequence', { ...example, sequence: -1 }],
      ['extra field', { ...example, location: 'x' }],
      ['device id with a space', { ...example, deviceId: 'urn:epc:id:giai:0614141 1' }],
      ['upper-case key id', { ...example, keyId: RFC_KEY_ID.toUpperCase() }],
    ];
    for (const [name, value] of bad) expect([name, codeOf(() => validateTelemetryReading(value))]).toEqual([name, expect.stringMatching(/^PROTOCOL\.(MALFORMED_TELEMETRY|BAD_TIMESTAMP)$/)]);
    // A custom (non-CBV) type by absolute URI, an integer, no sequence: fine.
    const { sequence: _omit, ...rest } = example;
    expect(validateTelemetryReading({ ...rest, readings: [{ type: 'https://example.com/voc/VibrationRms', value: 12, uom: 'MMT' }] })).toBeTruthy();
  });

  it('signing needs the key the reading names; a signature object has exact fields', () => {
    const other = generateKeyPair('ed25519');
    expect(codeOf(() => signTelemetryReading(example, other))).toBe('PROTOCOL.KEY_ID_MISMATCH');
    const signed = signTelemetryReading(example, { algorithm: 'ed25519', privateKey: RFC_KEY });
    expect(codeOf(() => validateSignedTelemetry({ ...signed, signature: { ...signed.signature, keyId: keyId('ed25519', other.publicKey) } }))).toBe('PROTOCOL.KEY_ID_MISMATCH');
    expect(codeOf(() => validateSignedTelemetry({ ...signed, signature: { ...signed.signature, value: signed.signature.value.slice(1) } }))).toBe('PROTOCOL.MALFORMED_TELEMETRY');
    expect(codeOf(() => validateSignedTelemetry({ ...signed, extra: 1 }))).toBe('PROTOCOL.MALFORMED_TELEMETRY');
    expect(codeOf(() => validateSignedTelemetry({ ...signed, signature: { ...signed.signature, algorithm: 'rsa' } }))).toBe('PROTOCOL.UNSUPPORTED_ALGORITHM');
    // The caller's object can change afterwards without changing what was signed.
    const mutable = { ...example, readings: [...example.readings] };
    const copy = signTelemetryReading(mutable, { algorithm: 'ed25519', privateKey: RFC_KEY });
    mutable.readings.pop();
    expect(copy.reading.readings).toHaveLength(2);
  });
});

describe('device telemetry signatures, noble and node:crypto cross-tested', () => {
  for (const algorithm of SIGNATURE_ALGORITHMS) {
    it(`${algorithm}: either signer, both verifiers; tampering, a wrong key and another domain fail`, { timeout: 30_000 }, () => {
      for (let i = 0; i < 20; i++) {
        const key = generateKeyPair(algorithm);
        const reading: TelemetryReading = { ...example, keyId: keyId(algorithm, key.publicKey), sequence: i, readings: [{ type: 'Temperature', value: `${i - 10}.${i}5`, uom: 'CEL' }] };
        const bySdk = signTelemetryReading(reading, key);
        const raw = signWithNode(algorithm, key.privateKey, signingInput(SignatureDomain.deviceTelemetry, encodeTelemetryReading(reading)));
        const byNode: SignedTelemetry = { reading, signature: { ...bySdk.signature, value: toBase64Url(raw) } };
        for (const signed of [bySdk, byNode]) {
          expect(verifyTelemetrySignature(signed, key.publicKey)).toBe(true);
          expect(verifyTelemetrySignature(signed, key.publicKey, nodeVerify)).toBe(true);
          // A changed value, sequence or instant; a wrong key; another domain.
          const tampered = [
            { ...signed, reading: { ...signed.reading, readings: [{ ...signed.reading.readings[0], value: `${i}` }] } },
            { ...signed, reading: { ...signed.reading, sequence: i + 1 } },
            { ...signed, reading: { ...signed.reading, observedAt: '2026-12-02T08:15:30.251Z' } },
          ];
          for (const t of tampered) for (const v of [verify, nodeVerify]) expect(verifyTelemetrySignature(t, key.publicKey, v)).toBe(false);
          expect(verifyTelemetrySignature(signed, generateKeyPair(algorithm).publicKey)).toBe(false);
          const sig = Buffer.from(signed.signature.value, 'base64url');
          expect(verify(algorithm, key.publicKey, SignatureDomain.transaction, encodeTelemetryReading(reading), sig)).toBe(false);
          expect(nodeVerify(algorithm, key.publicKey, SignatureDomain.deviceTelemetry, encodeTelemetryReading(reading), sig)).toBe(true);
        }
      }
    });
  }

  it('never throws on junk', () => {
    const { publicKey } = generateKeyPair('ed25519');
    for (const junk of [null, undefined, 42, 'x', {}, { reading: example }, { reading: example, signature: null }]) {
      expect(verifyTelemetrySignature(junk as unknown as SignedTelemetry, publicKey)).toBe(false);
    }
    const signed = signTelemetryReading(example, { algorithm: 'ed25519', privateKey: RFC_KEY });
    expect(verifyTelemetrySignature(signed, new Uint8Array(3))).toBe(false);
  });
});
