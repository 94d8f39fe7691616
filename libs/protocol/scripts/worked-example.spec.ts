import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BlockHeader,
  ConsortiumMember,
  HeaderSignature,
  SignatureDomain,
  canonicalize,
  checkpointOrigin,
  fromHex,
  headerHashHex,
  isCertified,
  memberNoteKeys,
  parseCanonical,
  sha256,
  signingInput,
  toHex,
  utf8,
  verifyCheckpoint,
  verifyConsistency,
  verifyReceipt,
} from '../src/index';
import { DOCS_PATH, VECTORS_PATH, buildWorkedExample, readDocBlocks, renderDocs } from './worked-example';
import { NOTES_PATH, SIGNATURES_PATH, buildNoteVectors, buildSignatureVectors } from './test-vectors';

const doc = readFileSync(DOCS_PATH, 'utf8');
const blocks = readDocBlocks(doc);
const generated = buildWorkedExample();
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as unknown;

describe('docs/protocol.md and the code cannot drift', () => {
  it('every worked-example block in the document is exactly what the code produces', () => {
    expect([...blocks.keys()].sort()).toEqual(Object.keys(generated.blocks).sort());
    for (const [name, content] of Object.entries(generated.blocks)) expect(`${name}:\n${blocks.get(name)}`).toBe(`${name}:\n${content}`);
    expect(renderDocs(doc, generated.blocks)).toBe(doc);
  });

  it('the domain table lists every signature domain with its exact prefix', () => {
    const rows = [...doc.matchAll(/^\| `(alliance\/[a-z-]+\/v1)` \|[^|]*\| `([0-9a-f]+)` \|$/gm)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual(Object.values(SignatureDomain).map((d) => [d, toHex(signingInput(d, new Uint8Array(0)))]));
  });

  it('the vector files are what the scripts produce', () => {
    expect(json(VECTORS_PATH)).toEqual(JSON.parse(JSON.stringify(generated.vectors)));
    expect(json(SIGNATURES_PATH)).toEqual(JSON.parse(JSON.stringify(buildSignatureVectors())));
    expect(json(NOTES_PATH)).toEqual(JSON.parse(JSON.stringify(buildNoteVectors())));
  });
});

describe('the numbers printed in the document check out on their own', () => {
  const get = (name: string) => blocks.get(name) ?? '';
  const members: ConsortiumMember[] = [...get('keys').matchAll(/^(org\d) node key[^\n]*\n {2}private key \w+\n {2}public key {2}(\w+)/gm)].map((m) => ({
    organizationId: m[1],
    algorithm: 'ed25519',
    publicKey: m[2],
  }));

  it('transaction id, envelope leaf, header hash', () => {
    const tx = get('transaction-canonical');
    expect(parseCanonical(utf8(tx))).toBeTruthy(); // canonical as printed
    expect(toHex(sha256(utf8(tx)))).toBe(get('transaction-id'));
    expect(get('envelope-canonical')).toContain(`"transaction":${tx}}`);
    expect(toHex(sha256(new Uint8Array([0, ...utf8(get('envelope-canonical'))])))).toBe(get('envelope-leaf-hash'));
    const header = JSON.parse(get('block-header')) as BlockHeader;
    expect(canonicalize(header)).toBe(get('block-header'));
    expect(headerHashHex(header)).toBe(get('block-header-hash'));
    expect(header.previousHash).toBe(headerHashHex(JSON.parse(get('genesis-header')) as BlockHeader));
    expect(get('block-header-signing-input')).toBe(`${toHex(utf8('alliance/block-header/v1'))}00${get('block-header-hash')}`);
    const signatures = get('block-signatures').split('\n').map((l) => JSON.parse(l) as HeaderSignature);
    expect(isCertified(header, signatures, { type: 'all' }, members)).toBe(true);
  });

  it('the checkpoint and the consistency proof', () => {
    const header = JSON.parse(get('block-header')) as BlockHeader;
    const genesis = JSON.parse(get('genesis-header')) as BlockHeader;
    const v = verifyCheckpoint(`${get('checkpoint')}\n`, memberNoteKeys(members), { origin: checkpointOrigin('alliance-main'), policy: { type: 'all' } });
    expect([v.treeSize, toHex(v.rootHash)]).toEqual([header.logSize, header.logRoot]);
    const proof = get('consistency-1-4').split('\n').map((h) => fromHex(h));
    expect(verifyConsistency({ fromSize: 1, toSize: 4, fromRoot: fromHex(genesis.logRoot), toRoot: fromHex(header.logRoot), proof })).toBe(true);
  });

  it('the receipt, pinned to the members and policy printed above', () => {
    const receipt = JSON.parse(get('receipt')) as unknown;
    const verdict = verifyReceipt(utf8(canonicalize(receipt)), { trustedMembers: members, trustedPolicy: { type: 'majority' }, chainId: 'alliance-main' });
    expect(verdict).toMatchObject({ ok: true, transactionId: get('transaction-id'), code: 'VALID', leafIndex: 2 });
  });
});
