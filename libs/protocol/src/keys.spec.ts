import { createPrivateKey, createPublicKey, sign as nodeSign, verify as rawNodeVerify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import vectors from '../test-vectors/signatures.json';
import { concatBytes, fromHex, toBase64Url, toHex, utf8 } from './encoding';
import { SignatureDomain, signingInput } from './hash';
import {
  SIGNATURE_ALGORITHMS,
  SignatureAlgorithm,
  generateKeyPair,
  isValidPublicKey,
  keyId,
  normalizeSignature,
  publicKeyOf,
  sign,
  signRaw,
  verify,
  verifyRaw,
} from './keys';
import { ED25519_REJECTED_KEYS, nodeCryptoAvailable, nodeVerify } from './node-verify';

const ED25519_PKCS8 = fromHex('302e020100300506032b657004220420');
const ED25519_SPKI = fromHex('302a300506032b6570032100');

function nodeEd25519Verify(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  const key = createPublicKey({ key: Buffer.from(concatBytes(ED25519_SPKI, publicKey)), format: 'der', type: 'spki' });
  return rawNodeVerify(null, data, key, signature);
}

/** Signs with node:crypto, to cross-test in the other direction. */
function signWithNode(algorithm: SignatureAlgorithm, privateKey: Uint8Array, data: Uint8Array): Uint8Array {
  if (algorithm === 'ed25519') {
    const key = createPrivateKey({ key: Buffer.from(concatBytes(ED25519_PKCS8, privateKey)), format: 'der', type: 'pkcs8' });
    return new Uint8Array(nodeSign(null, data, key));
  }
  const curve = algorithm === 'ecdsa-p256' ? p256 : secp256k1;
  const pub = curve.getPublicKey(privateKey, false);
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
  const key = createPrivateKey({
    key: { kty: 'EC', crv: algorithm === 'ecdsa-p256' ? 'P-256' : 'secp256k1', d: b64(privateKey), x: b64(pub.slice(1, 33)), y: b64(pub.slice(33)) },
    format: 'jwk',
  });
  return new Uint8Array(nodeSign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }));
}

const DOMAIN = SignatureDomain.transaction;

describe('published known answers', () => {
  for (const v of vectors.ed25519Rfc8032) {
    it(`${v.name}: key, signature, and verification in noble and OpenSSL`, () => {
      const privateKey = fromHex(v.privateKey);
      const message = fromHex(v.message);
      expect(toHex(publicKeyOf('ed25519', privateKey))).toBe(v.publicKey);
      expect(toHex(signRaw('ed25519', privateKey, message))).toBe(v.signature);
      expect(verifyRaw('ed25519', fromHex(v.publicKey), message, fromHex(v.signature))).toBe(true);
      expect(nodeEd25519Verify(fromHex(v.publicKey), message, fromHex(v.signature))).toBe(true);
    });
  }

  for (const c of vectors.ecdsaP256Rfc6979.cases) {
    it(`${c.name}: deterministic nonce, and the low-S rule`, () => {
      const v = vectors.ecdsaP256Rfc6979;
      const privateKey = fromHex(v.privateKey);
      const message = fromHex(c.message);
      expect(toHex(p256.getPublicKey(privateKey, false))).toBe(v.publicKeyUncompressed);
      expect(toHex(publicKeyOf('ecdsa-p256', privateKey))).toBe(v.publicKeyCompressed);
      // The curve arithmetic reproduces the published (r, s) exactly.
      const published = fromHex(c.r + c.s);
      expect(toHex(p256.sign(message, privateKey, { lowS: false, prehash: true }))).toBe(c.r + c.s);
      // OpenSSL accepts the published signature; the protocol only its low-S twin.
      const spki = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: Buffer.from(fromHex(v.publicKeyUncompressed.slice(2, 66))).toString('base64url'), y: Buffer.from(fromHex(v.publicKeyUncompressed.slice(66))).toString('base64url') }, format: 'jwk' });
      expect(rawNodeVerify('sha256', message, { key: spki, dsaEncoding: 'ieee-p1363' }, published)).toBe(true);
      const low = normalizeSignature('ecdsa-p256', published);
      const isHigh = toHex(low) !== toHex(published);
      expect(verifyRaw('ecdsa-p256', fromHex(v.publicKeyCompressed), message, published)).toBe(!isHigh);
      expect(verifyRaw('ecdsa-p256', fromHex(v.publicKeyCompressed), message, low)).toBe(true);
      expect(toHex(signRaw('ecdsa-p256', privateKey, message))).toBe(toHex(low));
    });
  }
  it('the "sample" vector is a high-S signature (so the low-S rule is really exercised)', () => {
    const c = vectors.ecdsaP256Rfc6979.cases[0];
    expect(toHex(normalizeSignature('ecdsa-p256', fromHex(c.r + c.s)))).not.toBe(c.r + c.s);
  });
});

describe('protocol signatures', () => {
  for (const v of vectors.protocolSignatures) {
    it(`${v.algorithm}: key id, signing input, deterministic signature, both verifiers`, () => {
      const algorithm = v.algorithm as SignatureAlgorithm;
      const publicKey = fromHex(v.publicKey);
      const message = fromHex(v.message);
      expect(toHex(publicKeyOf(algorithm, fromHex(v.privateKey)))).toBe(v.publicKey);
      expect(keyId(algorithm, publicKey)).toBe(v.keyId);
      expect(toHex(signingInput(v.domain as SignatureDomain, message))).toBe(v.signingInput);
      expect(toHex(sign(algorithm, fromHex(v.privateKey), v.domain as SignatureDomain, message))).toBe(v.signature);
      expect(verify(algorithm, publicKey, v.domain, message, fromHex(v.signature))).toBe(true);
      expect(nodeVerify(algorithm, publicKey, v.domain, message, fromHex(v.signature))).toBe(true);
      // Domain separation: the same bytes under another domain do not verify.
      expect(verify(algorithm, publicKey, SignatureDomain.blockHeader, message, fromHex(v.signature))).toBe(false);
      expect(nodeVerify(algorithm, publicKey, SignatureDomain.authChallenge, message, fromHex(v.signature))).toBe(false);
    });
  }

  for (const v of vectors.verify) {
    it(`${v.valid ? 'accepts' : 'rejects'}: ${v.name} — noble and node:crypto agree`, () => {
      const args = [v.algorithm, fromHex(v.publicKey), v.domain, fromHex(v.message), fromHex(v.signature)] as const;
      expect(verify(...args)).toBe(v.valid);
      expect(nodeVerify(...args)).toBe(v.valid);
    });
  }

  it('keyId is the first 16 bytes of SHA-256(algorithm ‖ 0x00 ‖ key)', () => {
    // RFC 8032 TEST 1 key; also in docs/protocol.md.
    expect(keyId('ed25519', fromHex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'))).toBe('40302329e41f3cc765c446cc3902ec77');
    expect(() => keyId('ed25519', new Uint8Array(33))).toThrow();
    expect(() => keyId('rsa' as SignatureAlgorithm, new Uint8Array(32))).toThrow(/unsupported/);
  });
});

describe('noble and node:crypto, cross-tested both ways', () => {
  it('node:crypto is in use in this environment', () => {
    expect(nodeCryptoAvailable()).toBe(true);
  });

  // secp256k1 is noble on both verifier paths (only the signer differs), and slower.
  const rounds: Record<SignatureAlgorithm, number> = { ed25519: 200, 'ecdsa-p256': 150, 'ecdsa-secp256k1': 60 };
  for (const algorithm of SIGNATURE_ALGORITHMS) {
    it(`${algorithm}: ${rounds[algorithm]} random keys and messages, each direction, plus tampering`, { timeout: 60_000 }, () => {
      for (let i = 0; i < rounds[algorithm]; i++) {
        const { privateKey, publicKey } = generateKeyPair(algorithm);
        const message = crypto.getRandomValues(new Uint8Array(i % 7 === 0 ? 0 : (i * 37) % 300));
        // noble signs → both verify
        const s1 = sign(algorithm, privateKey, DOMAIN, message);
        expect(verify(algorithm, publicKey, DOMAIN, message, s1)).toBe(true);
        expect(nodeVerify(algorithm, publicKey, DOMAIN, message, s1)).toBe(true);
        // node:crypto signs (then low-S normalization for ECDSA) → both verify
        const raw = signWithNode(algorithm, privateKey, signingInput(DOMAIN, message));
        const s2 = normalizeSignature(algorithm, raw);
        expect(verify(algorithm, publicKey, DOMAIN, message, s2)).toBe(true);
        expect(nodeVerify(algorithm, publicKey, DOMAIN, message, s2)).toBe(true);
        if (toHex(raw) !== toHex(s2)) {
          // node:crypto produced high S: valid ECDSA, rejected by both protocol verifiers.
          expect(verify(algorithm, publicKey, DOMAIN, message, raw)).toBe(false);
          expect(nodeVerify(algorithm, publicKey, DOMAIN, message, raw)).toBe(false);
        }
        // Tampering: a bit of the signature, of the key, of the message.
        const bit = (b: Uint8Array, at: number) => {
          const c = b.slice();
          c[at % c.length] ^= 1 << (at % 8);
          return c;
        };
        const badSig = bit(s1, i * 13);
        const badKey = bit(publicKey, i * 7 + 1);
        const badMsg = message.length > 0 ? bit(message, i * 5) : new Uint8Array([0]);
        for (const check of [verify, nodeVerify]) {
          expect(check(algorithm, publicKey, DOMAIN, message, badSig)).toBe(false);
          expect(check(algorithm, badKey, DOMAIN, message, s1)).toBe(false);
          expect(check(algorithm, publicKey, DOMAIN, badMsg, s1)).toBe(false);
        }
      }
    });
  }

  it('never throw on malformed input, in either verifier', () => {
    const { publicKey } = generateKeyPair('ed25519');
    const sig = new Uint8Array(64);
    const junk: unknown[] = [null, undefined, 'x', 42, {}, [], new Uint8Array(0), new Uint8Array(31), new Uint8Array(65)];
    for (const check of [verify, nodeVerify]) {
      for (const j of junk) {
        const call = check as (...args: unknown[]) => boolean;
        expect(call(j, publicKey, DOMAIN, new Uint8Array(0), sig)).toBe(false);
        expect(call('ed25519', j, DOMAIN, new Uint8Array(0), sig)).toBe(false);
        expect(call('ed25519', publicKey, j, new Uint8Array(0), sig)).toBe(false);
        expect(call('ed25519', publicKey, DOMAIN, j, sig)).toBe(false);
        expect(call('ed25519', publicKey, DOMAIN, new Uint8Array(0), j)).toBe(false);
      }
      expect(check('ed25519', publicKey, 'alliance/checkpoint/v1', new Uint8Array(0), sig)).toBe(false);
      expect(check('ecdsa-p256', new Uint8Array(33), DOMAIN, new Uint8Array(0), sig)).toBe(false);
      expect(check('ecdsa-p256', new Uint8Array(33).fill(2), DOMAIN, new Uint8Array(0), new Uint8Array(64).fill(0xff))).toBe(false);
    }
  });
});

describe('Ed25519 key rules', () => {
  it('the hard-coded rejected keys are exactly the small-order points (and their x = 0 sign-bit twins)', () => {
    const P = ed25519.Point;
    const L = P.Fn.ORDER;
    let T = P.ZERO;
    for (let i = 1; T.is0() || T.double().double().is0(); i++) {
      try {
        const p = P.fromBytes(ed25519.utils.getExtendedPublicKey(new Uint8Array(32).fill(i)).pointBytes).add(P.fromBytes(fromHex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05')));
        T = p.multiplyUnsafe(L - 1n).add(p);
      } catch {
        // next
      }
    }
    const torsion = new Set<string>();
    for (let i = 0, q = P.ZERO; i < 8; i++, q = q.add(T)) torsion.add(toHex(q.toBytes()));
    expect(torsion.size).toBe(8);
    const signTwins = ['0100000000000000000000000000000000000000000000000000000000000080', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'];
    expect([...ED25519_REJECTED_KEYS].sort()).toEqual([...torsion, ...signTwins].sort());
  });

  it('registries accept prime-order keys only', () => {
    const { publicKey } = generateKeyPair('ed25519');
    expect(isValidPublicKey('ed25519', publicKey)).toBe(true);
    const mixed = vectors.verify.find((v) => v.name.includes('mixed-order public key'))!;
    expect(isValidPublicKey('ed25519', fromHex(mixed.publicKey))).toBe(false);
    for (const hex of ED25519_REJECTED_KEYS) expect(isValidPublicKey('ed25519', fromHex(hex))).toBe(false);
    expect(isValidPublicKey('ecdsa-p256', generateKeyPair('ecdsa-p256').publicKey)).toBe(true);
    expect(isValidPublicKey('ecdsa-secp256k1', generateKeyPair('ecdsa-secp256k1').publicKey)).toBe(true);
    expect(isValidPublicKey('ecdsa-p256', concatBytes(new Uint8Array([2]), new Uint8Array(32).fill(0xff)))).toBe(false); // x ≥ p
  });

  it('the noble verifier is cofactorless like OpenSSL: a mixed-order R that noble.verify accepts is rejected', () => {
    const v = vectors.verify.find((x) => x.name.startsWith('Ed25519 R with a small-order'))!;
    const data = signingInput(v.domain as SignatureDomain, fromHex(v.message));
    expect(ed25519.verify(fromHex(v.signature), data, fromHex(v.publicKey), { zip215: false })).toBe(true);
    expect(nodeEd25519Verify(fromHex(v.publicKey), data, fromHex(v.signature))).toBe(false);
    expect(verify('ed25519', fromHex(v.publicKey), v.domain, fromHex(v.message), fromHex(v.signature))).toBe(false);
  });
});

describe('key handling', () => {
  it('generates keys of the documented sizes and refuses bad private keys', () => {
    for (const algorithm of SIGNATURE_ALGORITHMS) {
      const pair = generateKeyPair(algorithm);
      expect(pair.privateKey.length).toBe(32);
      expect(pair.publicKey.length).toBe(algorithm === 'ed25519' ? 32 : 33);
      expect(toHex(publicKeyOf(algorithm, pair.privateKey))).toBe(toHex(pair.publicKey));
    }
    expect(() => publicKeyOf('ecdsa-p256', new Uint8Array(32))).toThrow(/valid/); // zero scalar
    expect(() => publicKeyOf('ecdsa-secp256k1', new Uint8Array(32).fill(0xff))).toThrow(); // ≥ n
    expect(() => sign('ed25519', new Uint8Array(31), DOMAIN, utf8('x'))).toThrow();
    expect(() => sign('ed25519', new Uint8Array(32), 'alliance/other/v1' as SignatureDomain, utf8('x'))).toThrow(/domain/);
  });

  it('base64url signature values are what envelopes carry', () => {
    const { privateKey } = generateKeyPair('ed25519');
    expect(toBase64Url(sign('ed25519', privateKey, DOMAIN, utf8('x')))).toMatch(/^[A-Za-z0-9_-]{86}$/);
  });
});
