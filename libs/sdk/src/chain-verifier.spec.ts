import { afterEach, describe, expect, it } from 'vitest';
import { AllianceApiError, AllianceClient, ChainFailureCode, ChainProgress, ChainVerification, parseTrust, trustFromGenesis, verifyChain } from './index';
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
    expect(progress.map((p) => p.blocks)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(progress[0]).toMatchObject({ mode: 'full', targetBlock: 7 });
  });

  it("follows a configuration change (approved by the old members) and certifies later blocks with the new node keys", async () => {
    const result = await run({ blocks: 5, rotateAfter: 2 });
    expect(result.ok).toBe(true);
    expect(result.notes.join('\n')).toMatch(/configuration 1 from block 3, approved by org1, org2/);
  });

  it('names the block whose stored transaction was changed', async () => {
    const result = failure(await run({ blocks: 6 }, (l) => l.editRecord(4, 0, (e) => ({ ...e, transaction: { ...(e['transaction'] as object), nonce: 'forged' } }))));
    expect(result.blockNumber).toBe(4);
    expect(result.code).toBe('PROTOCOL.TRANSACTION_ID_MISMATCH');
    expect(result.blocks).toBe(4);
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
