import { afterEach, describe, expect, it } from 'vitest';
import { AllianceApiError, AllianceClient, ChainFailureCode, ChainProgress, ChainVerification, parseTrust, trustFromGenesis, verifyChain } from './index';
import { toBase64 } from '@alliance/protocol';
import { CHAIN_ID, FakeLedger, FakeLedgerOptions } from './test/fake-ledger';

let ledger: FakeLedger | null = null;

afterEach(async () => {
  await ledger?.stop();
  ledger = null;
});

async function run(options: FakeLedgerOptions = {}, tamper?: (l: FakeLedger) => void, pin = true): Promise<ChainVerification> {
  ledger = new FakeLedger(options);
  tamper?.(ledger);
  await ledger.start();
  return verifyChain(new AllianceClient(ledger.url), { pageSize: 3, ...(pin ? { trust: trustFromGenesis(ledger.genesis) } : {}) });
}

function failure(result: ChainVerification) {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result;
}

describe('verifyChain, full mode (the node serves block transactions)', () => {
  it('verifies every block, the log, the results and the checkpoint', async () => {
    const progress: ChainProgress[] = [];
    ledger = new FakeLedger({ blocks: 7 });
    await ledger.start();
    const result = await verifyChain(new AllianceClient(ledger.url), { trust: trustFromGenesis(ledger.genesis), pageSize: 2, onProgress: (p) => progress.push(p) });
    expect(result).toMatchObject({ ok: true, mode: 'full', chainId: CHAIN_ID, blocks: 8, trustSource: 'genesis' });
    if (!result.ok) return;
    expect(result.head.blockNumber).toBe(7);
    expect(result.transactions).toBe(ledger.blocks.reduce((n, b) => n + b.records.length, 0));
    expect(result.checkpoint).toEqual({ blockNumber: 7, treeSize: result.head.logSize, verifiedBy: ['org1', 'org2', 'org3'] });
    expect(progress.filter((p) => p.stateRows === undefined).map((p) => p.blocks)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(result.stateRows).toBe(ledger.state.size);
    expect(progress.at(-1)).toMatchObject({ blocks: 8, stateRows: ledger.state.size });
    expect(progress[0]).toMatchObject({ mode: 'full', targetBlock: 7 });
  });

  it('follows a configuration change certified by the members before it, and certifies later blocks with the new node keys', async () => {
    const result = await run({ blocks: 5, rotateAfter: 2 });
    expect(result.ok).toBe(true);
    expect(result.notes.join('\n')).toMatch(/configuration 1 from block 3 \(certified by the members of configuration 0\)/);
  });

  it('follows a configuration written without approvals (a deciding membership vote): the certification of its block is what counts', async () => {
    const result = await run({ blocks: 5, rotateAfter: 2, rotationApprovals: false });
    expect(result.ok).toBe(true);
    expect(result.notes.join('\n')).toMatch(/configuration 1 from block 3/);
  });

  it('refuses a configuration block certified only by the members it brings in', async () => {
    // org3's new node key alone is not one of the members before block 3, so org1+org2+new-org3 ≠ org1+org2+org3:
    // with the rotation block signed by the new keys, the old org3 signature is missing and the new one does not count.
    const result = failure(await run({ blocks: 5, rotateAfter: 2, rotationSignedBy: 'new' }));
    expect(result).toMatchObject({ blockNumber: 3, code: 'PROTOCOL.BAD_HEADER_SIGNATURE' });
  });

  it('refuses a configuration block whose configuration skips a sequence', async () => {
    const result = failure(await run({ blocks: 5, rotateAfter: 2, rotationSequence: 2 }));
    expect(result).toMatchObject({ blockNumber: 3, code: ChainFailureCode.BAD_CONFIG_UPDATE });
    expect(result.detail).toMatch(/sequence 2 does not follow 0/);
  });

  it('names the block whose stored transaction was changed', async () => {
    const result = failure(await run({ blocks: 6 }, (l) => l.editRecord(4, 0, (e) => ({ ...e, transaction: { ...(e['transaction'] as object), nonce: 'forged' } }))));
    expect(result.blockNumber).toBe(4);
    expect(result.code).toBe('PROTOCOL.TRANSACTION_ID_MISMATCH');
    expect(result.blocks).toBe(4);
  });

  it('refuses a block holding bytes that are not an envelope, or an envelope of another chain (protocol.md §7.5)', async () => {
    const garbage = failure(
      await run({ blocks: 6 }, (l) => {
        l.blocks[3].records[0] = new TextEncoder().encode('{"not":"an envelope"}');
      }),
    );
    expect(garbage).toMatchObject({ blockNumber: 3, code: 'PROTOCOL.BLOCK_CONTENT_MISMATCH' });
    expect(garbage.detail).toMatch(/transaction 0: the stored envelope does not decode/);
    const foreign = failure(await run({ blocks: 6 }, (l) => l.editRecord(2, 0, (e) => ({ ...e, transaction: { ...(e['transaction'] as object), chainId: 'another-chain' } }))));
    expect(foreign).toMatchObject({ blockNumber: 2, code: 'PROTOCOL.CHAIN_MISMATCH' });
  });

  it('names the block whose stored result was changed', async () => {
    const result = failure(
      await run({ blocks: 6 }, (l) => {
        l.blocks[2].results[0] = { ...l.blocks[2].results[0], code: 'LEDGER.ALREADY_ANCHORED', writes: [] };
      }),
    );
    expect(result.blockNumber).toBe(2);
    expect(result.code).toBe('PROTOCOL.BLOCK_CONTENT_MISMATCH');
    expect(result.detail).toMatch(/resultsRoot/);
  });

  it('names the block whose stored result bytes are not canonical (a hand edit that keeps the meaning)', async () => {
    const result = failure(
      await run({ blocks: 6 }, (l) => {
        l.resultBytes.set('5/0', new TextEncoder().encode(JSON.stringify(l.blocks[5].results[0], null, 1)));
      }),
    );
    expect(result).toMatchObject({ blockNumber: 5, code: 'PROTOCOL.MALFORMED_RESULT' });
  });

  it('names the block whose stored header was changed (hash kept: hash mismatch; hash rewritten too: signatures)', async () => {
    const later = (h: { timestamp: string }) => ({ ...h, timestamp: '2026-11-25T21:00:00.000Z' });
    const kept = failure(await run({ blocks: 6 }, (l) => l.editHeader(3, later as never)));
    expect(kept).toMatchObject({ blockNumber: 3, code: ChainFailureCode.HEADER_HASH_MISMATCH });
    const rewritten = failure(await run({ blocks: 6 }, (l) => l.editHeader(3, later as never, true)));
    expect(rewritten).toMatchObject({ blockNumber: 3, code: 'PROTOCOL.BAD_HEADER_SIGNATURE' });
  });

  it('rejects a chain that is not the pinned genesis', async () => {
    const other = new FakeLedger({ blocks: 1 });
    ledger = new FakeLedger({ blocks: 2 });
    await ledger.start();
    const result = failure(await verifyChain(new AllianceClient(ledger.url), { trust: trustFromGenesis(other.genesis) }));
    expect(result).toMatchObject({ blockNumber: 0, code: ChainFailureCode.GENESIS_MISMATCH });
  });

  it('rejects pinned members that are not the consortium', async () => {
    ledger = new FakeLedger({ blocks: 2 });
    await ledger.start();
    const strangers = parseTrust([{ organizationId: 'org1', algorithm: 'ed25519', publicKey: 'ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf' }]);
    const result = failure(await verifyChain(new AllianceClient(ledger.url), { trust: strangers }));
    expect(result).toMatchObject({ blockNumber: 0, code: ChainFailureCode.GENESIS_MISMATCH });
  });

  it('rejects a checkpoint signed over another root', async () => {
    const result = failure(
      await run({ blocks: 3 }, (l) => {
        l.checkpointOverride = l.checkpointNote(2);
      }),
    );
    expect(result).toMatchObject({ blockNumber: 3, code: ChainFailureCode.CHECKPOINT_MISMATCH });
  });
});

/** The key of the first write of block n's transaction i. */
function keyOf(l: FakeLedger, n: number, i = 0): string {
  return l.blocks[n].results[i].writes[0].key;
}

describe('verifyChain, world state (GET /ledger/v1/state against the replayed writes)', () => {
  const utf8 = new TextEncoder();

  it('names the block and the key of a state row whose value was changed', async () => {
    let key = '';
    const result = failure(
      await run({ blocks: 6 }, (l) => {
        key = keyOf(l, 4, 1);
        l.state.get(key)!.value = utf8.encode('{"blockNumber":4,"creator":"org9"}');
      }),
    );
    expect(result).toMatchObject({ blockNumber: 4, code: ChainFailureCode.STATE_MISMATCH, blocks: 7 });
    expect(result.detail).toContain(JSON.stringify(key));
    expect(result.detail).toMatch(/value \{"blockNumber":4,"creator":"org9"\} \(written: \{"blockNumber":4,"creator":"org1"\}\)/);
  });

  it('names a changed version, block number or writer', async () => {
    const version = failure(await run({ blocks: 6 }, (l) => void (l.state.get(keyOf(l, 2))!.version = 2)));
    expect(version).toMatchObject({ blockNumber: 2, code: ChainFailureCode.STATE_MISMATCH });
    expect(version.detail).toMatch(/version 2 \(written: 1\)/);
    const block = failure(await run({ blocks: 6 }, (l) => void (l.state.get(keyOf(l, 3))!.blockNumber = 1)));
    expect(block).toMatchObject({ blockNumber: 3, code: ChainFailureCode.STATE_MISMATCH });
    expect(block.detail).toMatch(/block number 1 \(written in block 3\)/);
    const writer = failure(await run({ blocks: 6 }, (l) => void (l.state.get(keyOf(l, 5))!.transactionId = 'ab'.repeat(32))));
    expect(writer).toMatchObject({ blockNumber: 5, code: ChainFailureCode.STATE_MISMATCH });
    expect(writer.detail).toMatch(/transaction abababababababab… \(written by/);
  });

  it('names a block number beyond the chain as a difference, not as a newer write', async () => {
    const result = failure(await run({ blocks: 4 }, (l) => void (l.state.get(keyOf(l, 2))!.blockNumber = 99)));
    expect(result).toMatchObject({ blockNumber: 2, code: ChainFailureCode.STATE_MISMATCH });
    expect(result.detail).toMatch(/block number 99/);
  });

  it('names a removed row at the block that wrote it, and an added row as written by no transaction', async () => {
    let key = '';
    const removed = failure(
      await run({ blocks: 5 }, (l) => {
        key = keyOf(l, 3);
        l.state.delete(key);
      }),
    );
    expect(removed).toMatchObject({ blockNumber: 3, code: ChainFailureCode.STATE_MISMATCH });
    expect(removed.detail).toBe(`state key ${JSON.stringify(key)}, written by transaction ${removed.detail.match(/transaction ([0-9a-f]{16}…)/)?.[1]} in block 3 (version 1), is missing from the node's state`);
    const added = failure(await run({ blocks: 5 }, (l) => l.state.set('anchor/forged', { value: utf8.encode('{"creator":"org1"}'), version: 1, blockNumber: 2, transactionId: l.blocks[2].results[0].transactionId })));
    expect(added).toMatchObject({ blockNumber: 2, code: ChainFailureCode.STATE_MISMATCH });
    expect(added.detail).toMatch(/"anchor\/forged" .* was written by no committed transaction of blocks 0–5: the row was added, or its key changed, by hand/);
    const nowhere = failure(await run({ blocks: 5 }, (l) => l.state.set('anchor/forged', { value: null, version: 1, blockNumber: 77, transactionId: 'cd'.repeat(32) })));
    expect(nowhere).toMatchObject({ blockNumber: null, code: ChainFailureCode.STATE_MISMATCH });
  });

  it('reports the lowest block when several rows differ, and counts the others', async () => {
    const result = failure(
      await run({ blocks: 6 }, (l) => {
        l.state.get(keyOf(l, 5))!.version = 9;
        l.state.get(keyOf(l, 1))!.version = 9;
      }),
    );
    expect(result).toMatchObject({ blockNumber: 1, code: ChainFailureCode.STATE_MISMATCH });
    expect(result.detail).toMatch(/\(1 other state row differs too\)$/);
  });

  it('checks the configuration row written by the genesis block', async () => {
    const result = failure(await run({ blocks: 2 }, (l) => void (l.state.get('config/chain')!.value = utf8.encode('{}'))));
    expect(result).toMatchObject({ blockNumber: 0, code: ChainFailureCode.STATE_MISMATCH });
  });

  it('says so when the node does not serve its state', async () => {
    const result = await run({ blocks: 2 }, (l) => void (l.stateRoute = false));
    expect(result).toMatchObject({ ok: true, stateRows: null });
    expect(result.notes.join('\n')).toMatch(/world state not verified: the node does not serve GET \/ledger\/v1\/state/);
  });
});

describe('verifyChain, stored columns no hash covers', () => {
  it('names the block whose transactions.code column was changed', async () => {
    const result = failure(await run({ blocks: 6 }, (l) => l.transactionColumns.set('3/0', { code: 'LEDGER.ALREADY_ANCHORED' })));
    expect(result).toMatchObject({ blockNumber: 3, code: ChainFailureCode.TRANSACTION_LIST_MISMATCH });
    expect(result.detail).toMatch(/stored with code LEDGER.ALREADY_ANCHORED \(transactions.code\), its result says VALID/);
  });

  it.each([
    ['leafHash', { leafHash: '00'.repeat(32) }, /transactions.leaf_hash is "0{64}", the record's leaf hash is/],
    ['type', { type: 'ledger.forged' }, /transactions.type is "ledger.forged", the record says "ledger.anchor"/],
    ['organizationId', { organizationId: 'org2' }, /transactions.organization_id is "org2", the record's creator is "org1"/],
    ['detail', { detail: 'made up' }, /transactions.detail is "made up", but a VALID transaction has no detail/],
    ['transactionId', { transactionId: 'ef'.repeat(32) }, /stored as efefefefefefefef…/],
    ['position', { position: 7 }, /is at position 7/],
  ])('names the block whose transactions.%s column was changed', async (_column, edit, message) => {
    const result = failure(await run({ blocks: 6 }, (l) => l.transactionColumns.set('4/1', edit)));
    expect(result.blockNumber).toBe(4);
    expect(result.detail).toMatch(message);
  });

  it.each([
    ['transactionCount', { transactionCount: 9 }, /blocks.transaction_count is 9, the header says transactionCount \d/],
    ['previousHash', { previousHash: 'ab'.repeat(32) }, /blocks.previous_hash is "(ab){32}", the header says previousHash "[0-9a-f]{64}"/],
    ['logSize', { logSize: 1 }, /blocks.log_size is 1/],
    ['firstOffset', { firstOffset: 0 }, /blocks.first_offset is 0, the header says ordering.firstOffset \d+/],
    ['lastOffset', { lastOffset: null }, /blocks.last_offset is null/],
    ['blockTime', { blockTime: '2026-11-25T20:01:03.000001Z' }, /blocks.block_time is "2026-11-25T20:01:03.000001Z", the header says timestamp "2026-11-25T20:01:03.000000Z"/],
    ['configSequence', { configSequence: 1 }, /blocks.config_sequence is 1, the header says configSequence 0/],
    ['header', { header: toBase64(new TextEncoder().encode('{}')) }, /the stored header bytes \(blocks.header\) are not the canonical form of the header/],
  ])('names the block whose blocks.%s column was changed', async (_column, edit, message) => {
    const result = failure(await run({ blocks: 5 }, (l) => l.blockColumns.set(3, edit)));
    expect(result).toMatchObject({ blockNumber: 3, code: ChainFailureCode.STORED_COLUMN_MISMATCH, blocks: 3 });
    expect(result.detail).toMatch(message);
  });

  it('names the block whose stored header bytes keep their meaning but are not canonical', async () => {
    const result = failure(await run({ blocks: 4 }, (l) => l.blockColumns.set(2, { header: toBase64(new TextEncoder().encode(JSON.stringify(l.blocks[2].header, null, 1))) })));
    expect(result).toMatchObject({ blockNumber: 2, code: ChainFailureCode.STORED_COLUMN_MISMATCH });
  });

  it('checks block 0 stores no ordering offsets (-1), unlike its header (0/0)', async () => {
    const result = failure(await run({ blocks: 2 }, (l) => l.blockColumns.set(0, { firstOffset: 0 })));
    expect(result).toMatchObject({ blockNumber: 0, code: ChainFailureCode.STORED_COLUMN_MISMATCH });
    expect(result.detail).toMatch(/blocks.first_offset is 0, block 0 stores -1 \(it is not read from the ordering log\)/);
  });

  it('names the block of a changed header signature row: signature, algorithm, header hash, checkpoint signature', async () => {
    const flipped = failure(
      await run({ blocks: 5 }, (l) => {
        const sig = l.blocks[2].signatures[1];
        l.blocks[2].signatures[1] = { ...sig, value: `${sig.value.slice(0, 20)}${sig.value[20] === 'A' ? 'B' : 'A'}${sig.value.slice(21)}` };
      }),
    );
    expect(flipped).toMatchObject({ blockNumber: 2, code: 'PROTOCOL.BAD_HEADER_SIGNATURE' });
    const rows = (l: FakeLedger, n: number) => l.blocks[n].signatures.map((sig, i) => ({ organizationId: sig.organizationId, algorithm: 'ed25519', headerHash: l.blocks[n].headerHash, checkpointSignature: l.blocks[n].checkpointSignatures[i] }));
    const algorithm = failure(await run({ blocks: 5 }, (l) => l.blockColumns.set(3, { signatures: rows(l, 3).map((r, i) => (i === 0 ? { ...r, algorithm: 'ecdsa-p256' } : r)) })));
    expect(algorithm).toMatchObject({ blockNumber: 3, code: ChainFailureCode.STORED_COLUMN_MISMATCH });
    expect(algorithm.detail).toMatch(/header_signatures.algorithm of org1 is "ecdsa-p256"/);
    const hash = failure(await run({ blocks: 5 }, (l) => l.blockColumns.set(4, { signatures: rows(l, 4).map((r, i) => (i === 2 ? { ...r, headerHash: '00'.repeat(32) } : r)) })));
    expect(hash.detail).toMatch(/header_signatures.header_hash of org3 is "0{64}"/);
    const note = failure(await run({ blocks: 5 }, (l) => l.blockColumns.set(1, { signatures: rows(l, 1).map((r, i) => (i === 1 ? { ...r, checkpointSignature: rows(l, 2)[1].checkpointSignature } : r)) })));
    expect(note).toMatchObject({ blockNumber: 1, code: ChainFailureCode.STORED_COLUMN_MISMATCH });
    expect(note.detail).toMatch(/checkpoint signature .*does not verify over the checkpoint of this block/);
  });
});

describe('verifyChain, headers mode (no block transactions route)', () => {
  it('verifies headers, signatures, links and log consistency, and says what it could not check', async () => {
    const result = await run({ blocks: 7, blockData: false });
    expect(result).toMatchObject({ ok: true, mode: 'headers', blocks: 8 });
    expect(result.notes.join('\n')).toMatch(/GET \/ledger\/v1\/blocks\/\{n\}\/transactions/);
  });

  it("without pinned trust uses the node's genesis block, and says so", async () => {
    const result = await run({ blocks: 3, blockData: false }, undefined, false);
    expect(result).toMatchObject({ ok: true, trustSource: 'node-genesis' });
    expect(result.notes.join('\n')).toMatch(/not pinned/);
  });

  it('follows a configuration change through the configuration transaction receipt', async () => {
    const result = await run({ blocks: 5, rotateAfter: 3, blockData: false });
    expect(result.ok).toBe(true);
    expect(result.notes.join('\n')).toMatch(/configuration 1 from block 4/);
  });

  it("catches a changed transaction once the node's log was rebuilt from its database (consistency proof)", async () => {
    const result = failure(await run({ blocks: 6, blockData: false }, (l) => l.editRecord(5, 1, (e) => ({ ...e, signature: { ...(e['signature'] as object) } , transaction: { ...(e['transaction'] as object), nonce: 'x' } }), true)));
    expect(result).toMatchObject({ blockNumber: 5, code: ChainFailureCode.INCONSISTENT_LOG });
  });

  it('catches a broken previousHash link', async () => {
    const result = failure(await run({ blocks: 4, blockData: false }, (l) => l.editHeader(2, (h) => ({ ...h, previousHash: 'ab'.repeat(32) }), true)));
    expect(result.blockNumber).toBe(2);
    expect(['PROTOCOL.BAD_HEADER_SIGNATURE', 'PROTOCOL.BAD_CHAIN_LINK']).toContain(result.code);
  });

  it('catches a removed signature that leaves a block uncertified', async () => {
    const result = failure(
      await run({ blocks: 4, blockData: false }, (l) => {
        l.blocks[1].signatures = l.blocks[1].signatures.slice(0, 1);
      }),
    );
    expect(result).toMatchObject({ blockNumber: 1, code: 'PROTOCOL.NOT_CERTIFIED' });
  });

  it('refuses to verify without block data when told it is required', async () => {
    ledger = new FakeLedger({ blocks: 1, blockData: false });
    await ledger.start();
    const result = failure(await verifyChain(new AllianceClient(ledger.url), { blockData: 'required' }));
    expect(result.code).toBe(ChainFailureCode.BLOCK_DATA_UNAVAILABLE);
  });

  it('throws (could not complete) when the node fails, instead of naming a block', async () => {
    ledger = new FakeLedger({ blocks: 1 });
    ledger.failWith = { status: 503, code: 'LEDGER.NODE_HALTED' };
    await ledger.start();
    await expect(verifyChain(new AllianceClient(ledger.url))).rejects.toBeInstanceOf(AllianceApiError);
  });
});
