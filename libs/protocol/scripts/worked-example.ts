/**
 * Produces the worked example of docs/protocol.md §10 and
 * test-vectors/worked-example.json from the library itself, so the document,
 * the vectors and the code cannot drift (scripts/worked-example.spec.ts fails
 * when they do).
 *
 *   node -r @swc-node/register libs/protocol/scripts/worked-example.ts          # print
 *   node -r @swc-node/register libs/protocol/scripts/worked-example.ts --write  # update docs and vectors
 *
 * Every key here is a published RFC 8032 test key. Never use them for anything real.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BlockHeader,
  CertificationPolicy,
  ConsortiumMember,
  Envelope,
  ResultEntry,
  SignatureDomain,
  Transaction,
  buildReceipt,
  canonicalize,
  checkpointOrigin,
  consistencyProof,
  encodeReceipt,
  envelopeLeafHash,
  formatCheckpoint,
  formatSignedNote,
  fromHex,
  headerHash,
  inclusionProof,
  keyId,
  merkleRoot,
  publicKeyOf,
  resultLeafHash,
  sha256,
  signCheckpoint,
  signHeader,
  signTransaction,
  signingInput,
  toHex,
  transactionId,
  utf8,
  GENESIS_PREVIOUS_HASH,
} from '../src/index';

/** RFC 8032 §7.1 secret keys: TEST 1 (the creator's agent key), TEST 2, TEST 3, TEST 1024 (node keys). */
export const TEST_KEYS = {
  creator: { name: 'RFC 8032 TEST 1', privateKey: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60' },
  org1: { name: 'RFC 8032 TEST 2', privateKey: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb' },
  org2: { name: 'RFC 8032 TEST 3', privateKey: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7' },
  org3: { name: 'RFC 8032 TEST 1024', privateKey: 'f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5' },
} as const;

const CHAIN_ID = 'alliance-main';
const SOURCE = 'kafka:ledger.alliance-main.ordered.v1/0';
const ORGS = ['org1', 'org2', 'org3'] as const;

export interface WorkedExample {
  /** Marker name → exact content of the fenced block in docs/protocol.md. */
  readonly blocks: Readonly<Record<string, string>>;
  /** test-vectors/worked-example.json */
  readonly vectors: unknown;
}

const pretty = (value: unknown) => JSON.stringify(value, null, 2);

export function buildWorkedExample(): WorkedExample {
  const creatorKey = fromHex(TEST_KEYS.creator.privateKey);
  const creatorPublic = publicKeyOf('ed25519', creatorKey);
  const creatorKeyId = keyId('ed25519', creatorPublic);
  const nodeKeys = ORGS.map((org) => ({ organizationId: org, privateKey: fromHex(TEST_KEYS[org].privateKey) }));
  const members: ConsortiumMember[] = nodeKeys.map((k) => ({
    organizationId: k.organizationId,
    algorithm: 'ed25519',
    publicKey: toHex(publicKeyOf('ed25519', k.privateKey)),
  }));
  const policy: CertificationPolicy = { type: 'majority' };
  const creator = { organizationId: 'org1', keyId: creatorKeyId };
  const sign = (tx: Transaction) => signTransaction(tx, { algorithm: 'ed25519', privateKey: creatorKey });
  const anchorOf = (text: string) => toHex(sha256(utf8(text)));

  // Block 0: the genesis block, one (abbreviated) configuration transaction.
  const genesisTx: Transaction = {
    chainId: CHAIN_ID,
    type: 'config.genesis',
    creator,
    nonce: 'genesis',
    timestamp: '2026-11-25T19:59:00.000Z',
    payload: { members: [...ORGS], note: 'abbreviated; the ledger defines the configuration schema' },
  };
  const genesisEnvelope = sign(genesisTx);
  const genesisResult: ResultEntry = {
    transactionId: transactionId(genesisTx),
    code: 'VALID',
    writes: [{ key: 'config/chain', value: { members: [...ORGS] }, version: 1 }],
  };
  const genesisLeaves = [envelopeLeafHash(genesisEnvelope)];
  const genesisHeader: BlockHeader = {
    chainId: CHAIN_ID,
    blockNumber: 0,
    previousHash: GENESIS_PREVIOUS_HASH,
    dataRoot: toHex(merkleRoot(genesisLeaves)),
    resultsRoot: toHex(merkleRoot([resultLeafHash(genesisResult)])),
    transactionCount: 1,
    logSize: 1,
    logRoot: toHex(merkleRoot(genesisLeaves)),
    ordering: { source: SOURCE, firstOffset: 0, lastOffset: 0 },
    timestamp: '2026-11-25T19:59:00.120Z',
    configSequence: 0,
  };

  // Block 1: three anchors; the third repeats the first's hash and is invalid.
  const hashA = anchorOf('invoice 2026-0001');
  const hashB = anchorOf('invoice 2026-0002');
  const txs: Transaction[] = [
    {
      chainId: CHAIN_ID,
      type: 'ledger.anchor',
      creator,
      nonce: 'inv-2026-0001',
      timestamp: '2026-11-25T20:00:00.000Z',
      payload: { hash: hashA, metadata: { document: 'invoice', number: '2026-0001' } },
    },
    {
      chainId: CHAIN_ID,
      type: 'ledger.anchor',
      creator,
      nonce: 'inv-2026-0002',
      timestamp: '2026-11-25T20:00:00.250Z',
      payload: { hash: hashB, metadata: { amountMinor: 1250000, currency: 'CNY', document: 'invoice', number: '2026-0002' } },
    },
    {
      chainId: CHAIN_ID,
      type: 'ledger.anchor',
      creator,
      nonce: 'inv-2026-0001-again',
      timestamp: '2026-11-25T20:00:00.500Z',
      payload: { hash: hashA, metadata: { document: 'invoice', number: '2026-0001' } },
    },
  ];
  const envelopes: Envelope[] = txs.map(sign);
  const results: ResultEntry[] = [
    { transactionId: transactionId(txs[0]), code: 'VALID', writes: [{ key: `anchor/${hashA}`, value: { blockNumber: 1, creator: 'org1' }, version: 1 }] },
    { transactionId: transactionId(txs[1]), code: 'VALID', writes: [{ key: `anchor/${hashB}`, value: { blockNumber: 1, creator: 'org1' }, version: 1 }] },
    { transactionId: transactionId(txs[2]), code: 'LEDGER.ALREADY_ANCHORED', writes: [] },
  ];
  const blockLeaves = envelopes.map(envelopeLeafHash);
  const resultLeaves = results.map(resultLeafHash);
  const logLeaves = [...genesisLeaves, ...blockLeaves];
  const header: BlockHeader = {
    chainId: CHAIN_ID,
    blockNumber: 1,
    previousHash: toHex(headerHash(genesisHeader)),
    dataRoot: toHex(merkleRoot(blockLeaves)),
    resultsRoot: toHex(merkleRoot(resultLeaves)),
    transactionCount: 3,
    logSize: 4,
    logRoot: toHex(merkleRoot(logLeaves)),
    ordering: { source: SOURCE, firstOffset: 4, lastOffset: 7 },
    timestamp: '2026-11-25T20:00:01.000Z',
    configSequence: 0,
  };
  const hash = headerHash(header);
  const signatures = nodeKeys.map((k) => signHeader(header, k));

  // The checkpoint after block 1, signed by every member.
  const noteText = formatCheckpoint({ origin: checkpointOrigin(CHAIN_ID), treeSize: header.logSize, rootHash: fromHex(header.logRoot) });
  const note = formatSignedNote(
    noteText,
    nodeKeys.map((k) => signCheckpoint(noteText, { name: k.organizationId, privateKey: k.privateKey })),
  );

  // The receipt of the second transaction of block 1 (global leaf 2).
  const leafIndex = 2;
  const position = leafIndex - (header.logSize - header.transactionCount);
  const receipt = buildReceipt({
    envelope: envelopes[position],
    creatorPublicKey: creatorPublic,
    result: results[position],
    header,
    signatures,
    leafIndex,
    inclusionProof: inclusionProof(logLeaves, leafIndex),
    resultProof: inclusionProof(resultLeaves, position),
    dataProof: inclusionProof(blockLeaves, position),
    members,
    policy,
  });
  const consistency = consistencyProof(logLeaves, 1).map(toHex);

  const example = envelopes[position];
  const exampleTx = example.transaction;
  const txText = canonicalize(exampleTx);
  const blocks: Record<string, string> = {
    keys: [
      `creator (org1 agent), ${TEST_KEYS.creator.name}`,
      `  private key ${TEST_KEYS.creator.privateKey}`,
      `  public key  ${toHex(creatorPublic)}`,
      `  keyId       ${creatorKeyId}`,
      ...nodeKeys.map((k, i) =>
        [
          `${k.organizationId} node key, ${TEST_KEYS[ORGS[i]].name}`,
          `  private key ${TEST_KEYS[ORGS[i]].privateKey}`,
          `  public key  ${members[i].publicKey}`,
          `  keyId       ${keyId('ed25519', fromHex(members[i].publicKey))}`,
        ].join('\n'),
      ),
    ].join('\n'),
    'transaction-canonical': txText,
    'transaction-id': transactionId(exampleTx),
    'transaction-signing-input-prefix': toHex(signingInput(SignatureDomain.transaction, new Uint8Array(0))),
    'transaction-signature': example.signature.value,
    'envelope-canonical': canonicalize(example),
    'envelope-leaf-hash': toHex(envelopeLeafHash(example)),
    'block-envelopes': envelopes.map((e) => canonicalize(e)).join('\n'),
    'block-results': results.map((r) => canonicalize(r)).join('\n'),
    'block-leaves': [
      ...blockLeaves.map((l, i) => `envelope ${i} leaf ${toHex(l)}`),
      ...resultLeaves.map((l, i) => `result   ${i} leaf ${toHex(l)}`),
      `log leaf 0 (genesis) ${toHex(genesisLeaves[0])}`,
    ].join('\n'),
    'genesis-header': canonicalize(genesisHeader),
    'genesis-header-hash': toHex(headerHash(genesisHeader)),
    'block-header': canonicalize(header),
    'block-header-hash': toHex(hash),
    'block-header-signing-input': toHex(signingInput(SignatureDomain.blockHeader, hash)),
    'block-signatures': signatures.map((s) => canonicalize(s)).join('\n'),
    // The note's final newline is the fence's line break in the document.
    checkpoint: note.slice(0, -1),
    'consistency-1-4': consistency.join('\n'),
    receipt: pretty(receipt),
  };
  const vectors = {
    description: 'docs/protocol.md §10 worked example; generated by libs/protocol/scripts/worked-example.ts. RFC 8032 test keys only.',
    keys: {
      creator: { ...TEST_KEYS.creator, publicKey: toHex(creatorPublic), keyId: creatorKeyId },
      members: nodeKeys.map((k, i) => ({ ...members[i], privateKey: TEST_KEYS[ORGS[i]].privateKey, source: TEST_KEYS[ORGS[i]].name })),
    },
    policy,
    genesis: { envelopes: [genesisEnvelope], results: [genesisResult], header: genesisHeader, headerHash: toHex(headerHash(genesisHeader)) },
    block: {
      envelopes,
      results,
      header,
      headerHash: toHex(hash),
      signatures,
      transactionIds: txs.map(transactionId),
      envelopeLeafHashes: blockLeaves.map(toHex),
      resultLeafHashes: resultLeaves.map(toHex),
    },
    checkpoint: note,
    consistency: { fromSize: 1, toSize: 4, fromRoot: genesisHeader.logRoot, toRoot: header.logRoot, proof: consistency },
    receipt,
    receiptCanonical: new TextDecoder().decode(encodeReceipt(receipt)),
  };
  return { blocks, vectors };
}

export const DOCS_PATH = join(__dirname, '..', '..', '..', 'docs', 'protocol.md');
export const VECTORS_PATH = join(__dirname, '..', 'test-vectors', 'worked-example.json');
/** `<!-- example:name -->` followed by a fenced block. */
export const MARKER = /<!-- example:([a-z0-9-]+) -->\n```([a-z]*)\n(?:```|([\s\S]*?)\n```)/g;

/** Replaces every marked block of the document with the generated content. */
export function renderDocs(doc: string, blocks: Readonly<Record<string, string>>): string {
  return doc.replace(MARKER, (_whole, name: string, lang: string) => {
    const content = blocks[name];
    if (content === undefined) throw new Error(`docs/protocol.md has an unknown example block "${name}"`);
    return `<!-- example:${name} -->\n\`\`\`${lang}\n${content}\n\`\`\``;
  });
}

/** The marked blocks of the document, by name. */
export function readDocBlocks(doc: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const m of doc.matchAll(MARKER)) {
    if (found.has(m[1])) throw new Error(`example block "${m[1]}" appears twice`);
    found.set(m[1], m[3] ?? '');
  }
  return found;
}

if (require.main === module) {
  const { blocks, vectors } = buildWorkedExample();
  if (process.argv.includes('--write')) {
    writeFileSync(DOCS_PATH, renderDocs(readFileSync(DOCS_PATH, 'utf8'), blocks));
    writeFileSync(VECTORS_PATH, `${JSON.stringify(vectors, null, 2)}\n`);
    console.log(`updated ${DOCS_PATH} and ${VECTORS_PATH}`);
  } else {
    for (const [name, content] of Object.entries(blocks)) console.log(`--- ${name}\n${content}\n`);
  }
}
