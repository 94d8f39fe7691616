/**
 * Figures for the protocol's hot paths (a script, not a test):
 *
 *   node -r @swc-node/register libs/protocol/scripts/bench.ts
 *
 * Each figure is the best of three timed runs after a warm-up, single thread.
 */
import { createPrivateKey, sign as nodeSign } from 'node:crypto';
import {
  MerkleAccumulator,
  SignatureAlgorithm,
  SignatureDomain,
  concatBytes,
  decodeEnvelope,
  encodeEnvelope,
  fromHex,
  generateKeyPair,
  keyId,
  leafHash,
  nodeVerify,
  sign,
  signTransaction,
  signingInput,
  verify,
} from '../src/index';

function rate(label: string, seconds: number, op: (i: number) => unknown): number {
  const deadline = (ms: number) => {
    const start = performance.now();
    let n = 0;
    while (performance.now() - start < ms) {
      for (let k = 0; k < 16; k++) op(n++);
    }
    return (n * 1000) / (performance.now() - start);
  };
  deadline(200);
  const best = Math.max(deadline((seconds * 1000) / 3), deadline((seconds * 1000) / 3), deadline((seconds * 1000) / 3));
  console.log(`${label.padEnd(52)} ${Math.round(best).toLocaleString('en-US').padStart(12)} /s`);
  return best;
}

const DOMAIN = SignatureDomain.transaction;
const messages = Array.from({ length: 256 }, (_, i) => new Uint8Array(200).fill(i));

function signatures(algorithm: SignatureAlgorithm) {
  const key = generateKeyPair(algorithm);
  return { key, sigs: messages.map((m) => sign(algorithm, key.privateKey, DOMAIN, m)) };
}

console.log(`Node ${process.version}, ${process.arch}; messages of 200 bytes`);
const ed = signatures('ed25519');
const pkcs8 = createPrivateKey({ key: Buffer.from(concatBytes(fromHex('302e020100300506032b657004220420'), ed.key.privateKey)), format: 'der', type: 'pkcs8' });
const edNobleSign = rate('Ed25519 sign, noble', 3, (i) => sign('ed25519', ed.key.privateKey, DOMAIN, messages[i & 255]));
const edNodeSign = rate('Ed25519 sign, node:crypto (KeyObject reused)', 3, (i) => nodeSign(null, signingInput(DOMAIN, messages[i & 255]), pkcs8));
const edNoble = rate('Ed25519 verify, noble (protocol rule)', 3, (i) => verify('ed25519', ed.key.publicKey, DOMAIN, messages[i & 255], ed.sigs[i & 255]));
const edNode = rate('Ed25519 verify, nodeVerify', 3, (i) => nodeVerify('ed25519', ed.key.publicKey, DOMAIN, messages[i & 255], ed.sigs[i & 255]));
const p = signatures('ecdsa-p256');
const pNoble = rate('P-256 verify, noble', 3, (i) => verify('ecdsa-p256', p.key.publicKey, DOMAIN, messages[i & 255], p.sigs[i & 255]));
const pNode = rate('P-256 verify, nodeVerify', 3, (i) => nodeVerify('ecdsa-p256', p.key.publicKey, DOMAIN, messages[i & 255], p.sigs[i & 255]));
const k1 = signatures('ecdsa-secp256k1');
rate('secp256k1 verify, noble (nodeVerify delegates)', 3, (i) => verify('ecdsa-secp256k1', k1.key.publicKey, DOMAIN, messages[i & 255], k1.sigs[i & 255]));

const leaves = Array.from({ length: 1 << 16 }, (_, i) => leafHash(new Uint8Array([i & 255, i >> 8])));
let acc = new MerkleAccumulator();
const append = rate('MerkleAccumulator.append', 3, (i) => {
  if (acc.size >= 1 << 22) acc = new MerkleAccumulator();
  acc.append(leaves[i & 0xffff]);
});
rate('MerkleAccumulator.root (tree of ~1M leaves)', 2, () => acc.root());

const creator = { organizationId: 'org1', keyId: keyId('ed25519', ed.key.publicKey) };
const wire = Array.from({ length: 64 }, (_, i) =>
  encodeEnvelope(
    signTransaction(
      { chainId: 'alliance-main', type: 'ledger.anchor', creator, nonce: `n-${i}`, timestamp: '2026-11-25T20:00:00.000Z', payload: { hash: 'ab'.repeat(32), metadata: { document: 'invoice', number: `2026-${i}` } } },
      { algorithm: 'ed25519', privateKey: ed.key.privateKey },
    ),
  ),
);
rate(`decodeEnvelope (${wire[0].length}-byte envelope)`, 2, (i) => decodeEnvelope(wire[i & 63]));

console.log(
  `\nnode:crypto vs noble: Ed25519 sign ×${(edNodeSign / edNobleSign).toFixed(1)}, Ed25519 verify ×${(edNode / edNoble).toFixed(1)}, P-256 verify ×${(pNode / pNoble).toFixed(1)}; ` +
    `accumulator ${Math.round(append).toLocaleString('en-US')} appends/s`,
);
