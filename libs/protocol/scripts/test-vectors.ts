/**
 * Writes test-vectors/signatures.json and test-vectors/signed-note.json: the
 * published known answers (RFC 8032, RFC 6979, Go's sumdb/note, C2SP) next to
 * the protocol's own vectors, including the malformed and adversarial inputs
 * every verifier must reject. canonical-json.json and merkle.json are
 * hand-written from their RFCs and transparency-dev/merkle.
 * src/vectors.spec.ts checks every vector and that this script reproduces the files.
 *
 *   node -r @swc-node/register libs/protocol/scripts/test-vectors.ts --write
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE, bytesToNumberLE, numberToBytesBE, numberToBytesLE } from '@noble/curves/utils.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { SignatureDomain, concatBytes, fromHex, keyId, publicKeyOf, sha256, sign, signingInput, toHex, utf8 } from '../src/index';

const RFC8032 = [
  {
    name: 'RFC 8032 7.1 TEST 1',
    privateKey: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'RFC 8032 7.1 TEST 2',
    privateKey: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'RFC 8032 7.1 TEST 3',
    privateKey: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    publicKey: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature: '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
];

const RFC6979_P256 = {
  privateKey: 'c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721',
  publicKeyUncompressed:
    '0460fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb67903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299',
  cases: [
    {
      name: 'RFC 6979 A.2.5 P-256, SHA-256, message "sample"',
      message: 'sample',
      r: 'efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716',
      s: 'f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8',
    },
    {
      name: 'RFC 6979 A.2.5 P-256, SHA-256, message "test"',
      message: 'test',
      r: 'f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367',
      s: '019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083',
    },
  ],
};

const DOMAIN = SignatureDomain.transaction;
const MESSAGE = utf8('alliance test vector');
// Fixed, published-here test keys for the ECDSA protocol vectors.
const P256_KEY = fromHex(RFC6979_P256.privateKey);
const K1_KEY = sha256(utf8('alliance secp256k1 test key'));
const ED_KEY = fromHex(RFC8032[0].privateKey);

const Point = ed25519.Point;
const L = Point.Fn.ORDER;

function torsionPoint(): typeof Point.BASE {
  // [L]P of a point with a torsion component is a torsion point; take one of order 8.
  for (let i = 1; i < 256; i++) {
    try {
      const p = Point.fromBytes(sha512(new Uint8Array([i])).slice(0, 32));
      const t = p.multiplyUnsafe(L - 1n).add(p);
      if (!t.double().double().is0()) return t;
    } catch {
      // not a point; try the next candidate
    }
  }
  throw new Error('no torsion point found');
}

/** An Ed25519 signature over the protocol signing input with a chosen R (and key point A). */
function craftEd25519(scalar: bigint, publicKey: Uint8Array, r: bigint, extraR?: typeof Point.BASE): Uint8Array {
  const data = signingInput(DOMAIN, MESSAGE);
  const R = extraR ? Point.BASE.multiply(r).add(extraR) : Point.BASE.multiply(r);
  const rBytes = R.toBytes();
  const k = bytesToNumberLE(sha512(concatBytes(rBytes, publicKey, data))) % L;
  return concatBytes(rBytes, numberToBytesLE((r + k * scalar) % L, 32));
}

function highS(curve: typeof p256 | typeof secp256k1, signature: Uint8Array): Uint8Array {
  const n = curve.Point.Fn.ORDER;
  return concatBytes(signature.subarray(0, 32), numberToBytesBE(n - bytesToNumberBE(signature.subarray(32)), 32));
}

export function buildSignatureVectors(): unknown {
  const data = toHex(MESSAGE);
  const protocolSignatures = [
    { algorithm: 'ed25519' as const, privateKey: ED_KEY },
    { algorithm: 'ecdsa-p256' as const, privateKey: P256_KEY },
    { algorithm: 'ecdsa-secp256k1' as const, privateKey: K1_KEY },
  ].map(({ algorithm, privateKey }) => {
    const publicKey = publicKeyOf(algorithm, privateKey);
    return {
      algorithm,
      privateKey: toHex(privateKey),
      publicKey: toHex(publicKey),
      keyId: keyId(algorithm, publicKey),
      domain: DOMAIN,
      message: data,
      signingInput: toHex(signingInput(DOMAIN, MESSAGE)),
      signature: toHex(sign(algorithm, privateKey, DOMAIN, MESSAGE)),
    };
  });

  const { scalar, pointBytes } = ed25519.utils.getExtendedPublicKey(ED_KEY);
  const T = torsionPoint();
  const valid = fromHex(protocolSignatures[0].signature);
  const S = bytesToNumberLE(valid.subarray(32));
  const identity = Point.ZERO.toBytes();
  const identitySignature = concatBytes(identity, new Uint8Array(32));
  const mixedA = Point.fromBytes(pointBytes).add(T).toBytes();
  // Mixed-order keys: cofactorless verification accepts a signature only when [k]T = 0.
  const mixedAVectors: { name: string; algorithm: string; publicKey: string; signature: string; valid: boolean }[] = [];
  for (let r = 1n; mixedAVectors.length < 2 && r < 200n; r++) {
    const sig = craftEd25519(scalar, mixedA, r);
    const accepted = ed25519.verify(sig, signingInput(DOMAIN, MESSAGE), mixedA, { zip215: false });
    const R = Point.fromBytes(sig.subarray(0, 32));
    const k = bytesToNumberLE(sha512(concatBytes(sig.subarray(0, 32), mixedA, signingInput(DOMAIN, MESSAGE)))) % L;
    const cofactorless = Point.BASE.multiplyUnsafe(bytesToNumberLE(sig.subarray(32))).subtract(Point.fromBytes(mixedA).multiplyUnsafe(k)).equals(R);
    const want = mixedAVectors.length === 0; // first one accepted, second rejected
    if (accepted && cofactorless === want) {
      mixedAVectors.push({
        name: want
          ? 'Ed25519 mixed-order public key, signature satisfying the cofactorless equation'
          : 'Ed25519 mixed-order public key, signature satisfying only the cofactored equation',
        algorithm: 'ed25519',
        publicKey: toHex(mixedA),
        signature: toHex(sig),
        valid: want,
      });
    }
  }
  const p256Valid = fromHex(protocolSignatures[1].signature);
  const k1Valid = fromHex(protocolSignatures[2].signature);
  const edPub = protocolSignatures[0].publicKey;
  const edge = [
    { name: 'Ed25519 valid protocol signature', algorithm: 'ed25519', publicKey: edPub, signature: protocolSignatures[0].signature, valid: true },
    {
      name: 'Ed25519 S + L (non-canonical S)',
      algorithm: 'ed25519',
      publicKey: edPub,
      signature: toHex(concatBytes(valid.subarray(0, 32), numberToBytesLE(S + L, 32))),
      valid: false,
    },
    {
      name: 'Ed25519 R with a small-order component (cofactored verifiers accept it)',
      algorithm: 'ed25519',
      publicKey: edPub,
      signature: toHex(craftEd25519(scalar, pointBytes, 12345n, T)),
      valid: false,
    },
    { name: 'Ed25519 identity public key, R = identity, S = 0', algorithm: 'ed25519', publicKey: toHex(identity), signature: toHex(identitySignature), valid: false },
    {
      name: 'Ed25519 non-canonical encoding of the identity (y = p + 1) as public key',
      algorithm: 'ed25519',
      publicKey: 'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
      signature: toHex(identitySignature),
      valid: false,
    },
    {
      name: 'Ed25519 identity with the sign bit set (x = 0, sign 1) as public key',
      algorithm: 'ed25519',
      publicKey: '0100000000000000000000000000000000000000000000000000000000000080',
      signature: toHex(identitySignature),
      valid: false,
    },
    ...mixedAVectors,
    { name: 'Ed25519 all-zero signature', algorithm: 'ed25519', publicKey: edPub, signature: '00'.repeat(64), valid: false },
    { name: 'Ed25519 63-byte signature', algorithm: 'ed25519', publicKey: edPub, signature: protocolSignatures[0].signature.slice(0, 126), valid: false },
    { name: 'P-256 valid low-S protocol signature', algorithm: 'ecdsa-p256', publicKey: protocolSignatures[1].publicKey, signature: toHex(p256Valid), valid: true },
    {
      name: 'P-256 the same signature with high S (n - s): valid ECDSA, rejected by the low-S rule',
      algorithm: 'ecdsa-p256',
      publicKey: protocolSignatures[1].publicKey,
      signature: toHex(highS(p256, p256Valid)),
      valid: false,
    },
    {
      name: 'P-256 uncompressed public key (the protocol takes SEC1 compressed only)',
      algorithm: 'ecdsa-p256',
      publicKey: toHex(p256.getPublicKey(P256_KEY, false)),
      signature: toHex(p256Valid),
      valid: false,
    },
    {
      name: 'P-256 r = 0',
      algorithm: 'ecdsa-p256',
      publicKey: protocolSignatures[1].publicKey,
      signature: toHex(concatBytes(new Uint8Array(32), p256Valid.subarray(32))),
      valid: false,
    },
    {
      name: 'secp256k1 valid low-S protocol signature',
      algorithm: 'ecdsa-secp256k1',
      publicKey: protocolSignatures[2].publicKey,
      signature: toHex(k1Valid),
      valid: true,
    },
    {
      name: 'secp256k1 the same signature with high S',
      algorithm: 'ecdsa-secp256k1',
      publicKey: protocolSignatures[2].publicKey,
      signature: toHex(highS(secp256k1, k1Valid)),
      valid: false,
    },
    {
      name: 'secp256k1 public key with prefix 0x04 truncated to 33 bytes',
      algorithm: 'ecdsa-secp256k1',
      publicKey: `04${protocolSignatures[2].publicKey.slice(2)}`,
      signature: toHex(k1Valid),
      valid: false,
    },
  ].map((v) => ({ ...v, domain: DOMAIN, message: data }));

  return {
    description:
      'Signature known answers. ed25519Rfc8032 and ecdsaP256Rfc6979 sign the raw message (no domain tag) and check the curve arithmetic. protocolSignatures and verify use the protocol signing input ASCII(domain) || 0x00 || message (ECDSA over SHA-256 of it, deterministic RFC 6979 nonces, low S); every "verify" vector gives the verdict a conforming verifier must reach (docs/protocol.md section 3).',
    ed25519Rfc8032: RFC8032,
    ecdsaP256Rfc6979: {
      privateKey: RFC6979_P256.privateKey,
      publicKeyUncompressed: RFC6979_P256.publicKeyUncompressed,
      publicKeyCompressed: toHex(p256.getPublicKey(P256_KEY, true)),
      cases: RFC6979_P256.cases.map((c) => ({ ...c, message: toHex(utf8(c.message)), messageText: c.message })),
    },
    protocolSignatures,
    verify: edge,
  };
}

const GO_NOTE = {
  source: 'golang.org/x/mod/sumdb/note documentation and tests',
  verifierKey: 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
  signerKey: 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz',
  text: "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n",
  note:
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
};
const C2SP_EXAMPLE = {
  source: 'c2sp.org/signed-note example (earlier revision) and its verifier key',
  verifierKey: 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k',
  text: 'This is an example message.\n',
  note: 'This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n',
};

export function buildNoteVectors(): unknown {
  const sigLine = GO_NOTE.note.slice(GO_NOTE.text.length + 1);
  const malformed = [
    { name: 'no blank line before the signatures', note: GO_NOTE.text + sigLine },
    { name: 'missing final newline', note: GO_NOTE.note.slice(0, -1) },
    { name: 'en dash (U+2013) instead of em dash', note: GO_NOTE.note.replace('\u2014', '\u2013') },
    { name: 'two hyphens instead of em dash', note: GO_NOTE.note.replace('\u2014', '--') },
    { name: 'CRLF line ending in the text', note: GO_NOTE.note.replace('problem,\n', 'problem,\r\n') },
    { name: 'two spaces after the dash', note: GO_NOTE.note.replace('\u2014 ', '\u2014  ') },
    { name: 'base64 without padding', note: GO_NOTE.note.replace('AM=\n', 'AM\n') },
    { name: 'base64 with non-zero padding bits', note: GO_NOTE.note.replace('AM=\n', 'AN=\n') },
    { name: 'key name containing +', note: GO_NOTE.note.replace('PeterNeumann', 'Peter+Neumann') },
    { name: 'a NUL byte in the text', note: GO_NOTE.note.replace('answer', 'ans\u0000wer') },
    { name: 'signature too short for a key ID', note: GO_NOTE.note.replace(/ x08go\S+\n$/, ' AAAA\n') },
    { name: 'the same signature line twice', note: GO_NOTE.note + sigLine },
    { name: 'blank line after the signatures', note: `${GO_NOTE.note}\n` },
  ].map((m) => ({ ...m, error: 'PROTOCOL.MALFORMED_NOTE' }));
  const rejected = [
    { name: 'text changed: the trusted key signature fails', note: GO_NOTE.note.replace('cryptography', 'cryptographY'), error: 'PROTOCOL.BAD_NOTE_SIGNATURE' },
    { name: 'only a signature by an unknown key', note: GO_NOTE.note.replace('PeterNeumann', 'PaulNeumann'), error: 'PROTOCOL.UNVERIFIED_NOTE' },
  ];
  return {
    description:
      'C2SP signed-note known answers. goSumdb: Ed25519 signing with the published private key (type byte 0x01 || 32-byte seed) must reproduce the note byte for byte. c2spExample: verification only. malformed: a strict parser rejects each. rejected: parse, then verification against goSumdb.verifierKey fails with the error.',
    goSumdb: GO_NOTE,
    c2spExample: C2SP_EXAMPLE,
    malformed,
    rejected,
  };
}

export const SIGNATURES_PATH = join(__dirname, '..', 'test-vectors', 'signatures.json');
export const NOTES_PATH = join(__dirname, '..', 'test-vectors', 'signed-note.json');

if (require.main === module) {
  if (process.argv.includes('--write')) {
    writeFileSync(SIGNATURES_PATH, `${JSON.stringify(buildSignatureVectors(), null, 2)}\n`);
    writeFileSync(NOTES_PATH, `${JSON.stringify(buildNoteVectors(), null, 2)}\n`);
    console.log(`wrote ${SIGNATURES_PATH} and ${NOTES_PATH}`);
  } else {
    console.log(JSON.stringify({ signatures: buildSignatureVectors(), notes: buildNoteVectors() }, null, 2));
  }
}
