// A ledger node on real PostgreSQL (solo ordering log): the fork halt.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { canonicalBytes, formatTimestamp, generateKeyPair, keyId, sha256, sign, signTransaction, toBase64Url, toHex, transactionId, utf8, verifyReceipt } from '@alliance/protocol';
import { agentKeyContracts, anchorContract, CONFIG_APPROVAL_DOMAIN, configUpdateContract, ContractRegistry, encodeHeaderSignature, genesisContract, type ChainConfig, type JsonValue, type OrderingLog } from '@alliance/ledger/domain';
import { PostgresOrderingLog } from '@alliance/ledger/data-access';
import { createPool, readMigrations, runMigrations, type Pool } from '@alliance/shared/data-access-postgres';
import { createTestDatabase, type TestDatabase } from '@alliance/shared/testing';
import { type ForkDetails, HEADER_DOMAIN, LedgerNode } from './ledger-node';
import { LedgerQueries } from './ledger-queries';
import { VerifierPool } from './verifier-pool';
import { until } from '../test/until';
import { chainFixture } from '../test/chain-fixture';

const { chainId, orgs, config, signed, nodeOptions } = chainFixture('fork-test');

describe('LedgerNode on PostgreSQL', () => {
  let database: TestDatabase;
  let pool: Pool;
  let orderingPool: Pool;
  let log: PostgresOrderingLog;
  const verifierPool = new VerifierPool({ threads: 1 });
  const forks: ForkDetails[] = [];
  const nodes: LedgerNode[] = [];

  const startNode = async (orderingLog: OrderingLog = log): Promise<LedgerNode> => {
    const node = new LedgerNode(
      nodeOptions(pool, orderingLog, new ContractRegistry([genesisContract, configUpdateContract, anchorContract, ...agentKeyContracts]), verifierPool, {
        onForkDetected: async (client, fork) => {
          // In the halt's own transaction: visible exactly when the halt is.
          await client.query('INSERT INTO fork_alerts (block_number, signer) VALUES ($1, $2)', [fork.blockNumber, fork.signerOrganizationId]);
          forks.push(fork);
        },
      }),
    );
    nodes.push(node);
    await node.start();
    return node;
  };

  const forgedSignature = (blockNumber: number, headerHash: Uint8Array, signer = orgs[1].key.privateKey) =>
    encodeHeaderSignature({
      chainId,
      blockNumber,
      headerHash: toHex(headerHash),
      organizationId: 'org2',
      keyId: keyId('ed25519', orgs[1].key.publicKey),
      algorithm: 'ed25519',
      signature: toBase64Url(sign('ed25519', signer, HEADER_DOMAIN, headerHash)),
      checkpointSignature: 'AAAA',
    });

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'ledger_node');
    pool = createPool(database.url, { applicationName: 'ledger-node-test', schema: 'ledger', max: 8 });
    orderingPool = createPool(database.url, { applicationName: 'ledger-node-test-ordering', max: 4 });
    await runMigrations(pool, 'ledger', readMigrations(join(__dirname, '../../../../apps/ledger/migrations')));
    await pool.query('CREATE TABLE fork_alerts (block_number bigint, signer text)');
    log = new PostgresOrderingLog({ pool: orderingPool, chainId, pollIntervalMs: 50 });
  });

  afterAll(async () => {
    for (const node of nodes) await node.stop().catch(() => undefined);
    await log?.close().catch(() => undefined);
    await verifierPool.close();
    await pool?.end().catch(() => undefined);
    await orderingPool?.end().catch(() => undefined);
    await database?.drop();
  });

  it('keeps records that are not envelopes of this chain, written straight onto the log, out of every block', async () => {
    const node = await startNode();
    const foreign = signTransaction(
      { ...signed('ledger.anchor', { hash: toHex(sha256(utf8('other chain'))) }, 'x1').transaction, chainId: 'another-chain' },
      { algorithm: 'ed25519', privateKey: orgs[0].key.privateKey },
    );
    const valid = signed('ledger.anchor', { hash: toHex(sha256(utf8('after the garbage'))) }, 'g1');
    await log.append([
      { kind: 'transaction', bytes: utf8('not an envelope') },
      { kind: 'transaction', bytes: utf8(' {"signature":{}}') },
      { kind: 'transaction', bytes: canonicalBytes(foreign as unknown as JsonValue) },
      { kind: 'transaction', bytes: canonicalBytes(valid as unknown as JsonValue) },
    ]);
    const id = transactionId(valid.transaction);
    await until('the valid transaction', async () => ((await pool.query('SELECT 1 FROM transactions WHERE transaction_id = $1', [id])).rowCount ?? 0) > 0);
    const { rows } = await pool.query<{ leaf_index: string; transaction_id: string; code: string }>('SELECT leaf_index, transaction_id, code FROM transactions ORDER BY leaf_index');
    // Genesis, then the valid transaction: nothing else took a leaf.
    expect(rows.map((r) => [r.leaf_index, r.code])).toEqual([['0', 'VALID'], ['1', 'VALID']]);
    expect(rows[1].transaction_id).toBe(id);
    await node.stop();
  });

  it('knows the configuration in force at every block, also after a restart (receipts of old blocks use theirs)', async () => {
    const node = await startNode();
    const before = node.headBlock;
    const next: ChainConfig = { ...config, sequence: 1, cutting: { ...config.cutting, maxTransactions: 20 } };
    const approvals = orgs.map((o) => ({ organizationId: o.organizationId, signature: toBase64Url(sign('ed25519', o.key.privateKey, CONFIG_APPROVAL_DOMAIN, canonicalBytes(next as unknown as JsonValue))) }));
    const [id] = await node.submit([canonicalBytes(signed('config.update', { config: next, approvals }, 'c1') as unknown as JsonValue)]);
    await until('the configuration block', async () => ((await pool.query("SELECT 1 FROM transactions WHERE transaction_id = $1 AND code = 'VALID'", [id])).rowCount ?? 0) > 0);
    const changedAt = node.headBlock;
    expect(changedAt).toBeGreaterThan(before);
    const check = (n: LedgerNode) => {
      expect(n.configAt(0).sequence).toBe(0);
      expect(n.configAt(changedAt - 1).cutting.maxTransactions).toBe(10);
      expect(n.configAt(changedAt).sequence).toBe(1);
      expect(n.configAt(changedAt + 100).cutting.maxTransactions).toBe(20);
    };
    check(node);
    await node.stop();
    const again = await startNode();
    check(again);
    await again.stop();
  });

  it('accepts an agent’s key at the door once registered, and refuses it with LEDGER.KEY_REVOKED once revoked', async () => {
    const node = await startNode();
    const agent = generateKeyPair('ed25519');
    const agentKeyId = keyId('ed25519', agent.publicKey);
    const byAgent = (n: string) =>
      canonicalBytes(
        signTransaction(
          { chainId, type: 'ledger.anchor', creator: { organizationId: 'org1', keyId: agentKeyId }, nonce: n, timestamp: formatTimestamp(Date.now()), payload: { hash: toHex(sha256(utf8(n))) } },
          { algorithm: 'ed25519', privateKey: agent.privateKey },
        ) as unknown as JsonValue,
      );
    const committed = async (id: string) => until(`transaction ${id}`, async () => (await pool.query<{ code: string }>('SELECT code FROM transactions WHERE transaction_id = $1', [id])).rows[0]?.code);
    await expect(node.submit([byAgent('too-early')])).rejects.toMatchObject({ code: 'LEDGER.UNKNOWN_KEY' });
    const [registered] = await node.submit([canonicalBytes(signed('identity.agent.register', { agentId: 'erp-1', name: 'ERP', keys: [{ algorithm: 'ed25519', publicKey: toHex(agent.publicKey) }] }, 'r1') as unknown as JsonValue)]);
    expect(await committed(registered)).toBe('VALID');
    const [first] = await node.submit([byAgent('by-agent-1')]);
    expect(await committed(first)).toBe('VALID');
    const [revoked] = await node.submit([canonicalBytes(signed('identity.agent.key.revoke', { agentId: 'erp-1', keyId: agentKeyId }, 'v1') as unknown as JsonValue)]);
    expect(await committed(revoked)).toBe('VALID');
    await expect(node.submit([byAgent('by-agent-2')])).rejects.toMatchObject({ code: 'LEDGER.KEY_REVOKED', message: expect.stringMatching(/was revoked at block \d+/) });
    // What it signed before the revocation stays committed, and its receipt (once org2 certifies) names the agent's key.
    expect(await committed(first)).toBe('VALID');
    const blockNumber = Number((await pool.query<{ block_number: string }>('SELECT block_number FROM transactions WHERE transaction_id = $1', [first])).rows[0].block_number);
    await log.append([{ kind: 'header-signature', bytes: forgedSignature(blockNumber, (await node.blockStore.block(blockNumber))!.headerHash) }]);
    await until('certification', () => node.certifiedBlock >= blockNumber);
    const receipt = await new LedgerQueries(node).receipt(first);
    expect(receipt.creatorKey).toEqual({ algorithm: 'ed25519', publicKey: toHex(agent.publicKey) });
    const members = config.members.map((m) => ({ organizationId: m.organizationId, algorithm: 'ed25519' as const, publicKey: m.nodeKey.publicKey }));
    expect(verifyReceipt(receipt, { trustedMembers: members, trustedPolicy: { type: 'majority' } })).toMatchObject({ ok: true });
    await node.stop();
  });

  it('makes a copy submitted while the first append is under way wait for it: appended in its place when that append fails, a duplicate once one succeeded', async () => {
    // The first append hangs (the broker away) until the test lets it fail; a client that timed out meanwhile sends the same envelope again.
    let failFirst: ((error: Error) => void) | undefined;
    const appends: number[] = [];
    const flaky: OrderingLog = {
      append: (records) => {
        appends.push(records.length);
        if (appends.length === 1) return new Promise((_, reject) => (failFirst = reject));
        return log.append(records);
      },
      read: (options) => log.read(options),
      ping: () => log.ping(),
      close: async () => undefined,
    };
    const node = await startNode(flaky);
    const envelope = canonicalBytes(signed('ledger.anchor', { hash: toHex(sha256(utf8('in flight'))) }, 'f1') as unknown as JsonValue);
    const first = node.submit([envelope]);
    await until('the first append under way', async () => failFirst !== undefined);
    let copyAnswered = false;
    const copy = node.submit([envelope]).finally(() => (copyAnswered = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(copyAnswered, 'the copy waits instead of answering "duplicate" for a transaction that is not on the log').toBe(false);
    failFirst!(new Error('broker away'));
    await expect(first).rejects.toThrow('broker away');
    const [id] = await copy; // appended in the first one's place
    expect(appends).toEqual([1, 1]);
    await until('the copy committed', async () => (await pool.query<{ code: string }>('SELECT code FROM transactions WHERE transaction_id = $1', [id])).rows[0]?.code === 'VALID');
    // Once appended, a copy is a duplicate of an accepted transaction.
    await expect(node.submit([envelope])).rejects.toMatchObject({ code: 'LEDGER.DUPLICATE_TRANSACTION' });
    await node.stop();
  });

  it('commits a submitted transaction once, ignores an unverifiable or matching signature, and halts durably on a member’s signature over another header', async () => {
    const node = await startNode();
    const alerts: unknown[] = [];
    node.events.on('alert', (a: unknown) => alerts.push(a));
    const [id] = await node.submit([canonicalBytes(signed('ledger.anchor', { hash: toHex(sha256(utf8('fork test'))) }, 'n1') as unknown as JsonValue)]);
    await until('its block', async () => ((await pool.query('SELECT 1 FROM transactions WHERE transaction_id = $1', [id])).rowCount ?? 0) > 0);
    const { rows } = await pool.query<{ block_number: string; code: string }>('SELECT block_number, code FROM transactions WHERE transaction_id = $1', [id]);
    expect(rows).toEqual([{ block_number: expect.any(String), code: 'VALID' }]);
    const blockNumber = Number(rows[0].block_number);
    const committed = (await node.blockStore.block(blockNumber))!.headerHash;

    // A record anyone could inject onto the log: another hash, but not signed by org2's node key. Ignored.
    const other = sha256(utf8('another header'));
    await log.append([{ kind: 'header-signature', bytes: forgedSignature(blockNumber, other, generateKeyPair('ed25519').privateKey) }]);
    // org2 agreeing with us: certifies the block (2 of 2 members).
    await log.append([{ kind: 'header-signature', bytes: forgedSignature(blockNumber, committed) }]);
    await until('certification of its block', () => node.certifiedBlock >= blockNumber);
    expect(node.haltReason).toBeUndefined();

    // org2's valid signature over a different header for that block: a fork.
    await log.append([{ kind: 'header-signature', bytes: forgedSignature(blockNumber, other) }]);
    await until('the halt', () => node.haltReason);
    expect(node.haltReason).toMatch(/^fork at block \d+: org2 signed header [0-9a-f]{64}, this node committed [0-9a-f]{64}$/);
    expect(alerts).toEqual([expect.objectContaining({ code: 'LEDGER.FORK_DETECTED', blockNumber, signerOrganizationId: 'org2', signedHeaderHash: toHex(other), committedHeaderHash: toHex(committed) })]);
    await until('the durable halt', async () => (await pool.query('SELECT 1 FROM fork_alerts')).rowCount === 1);
    const position = await pool.query<{ halted: boolean; halt_reason: string }>('SELECT halted, halt_reason FROM node_position');
    expect(position.rows[0]).toEqual({ halted: true, halt_reason: node.haltReason });
    expect(forks).toHaveLength(1);
    await expect(node.submit([canonicalBytes(signed('ledger.anchor', { hash: toHex(sha256(utf8('after the fork'))) }, 'n2') as unknown as JsonValue)])).rejects.toMatchObject({ code: 'LEDGER.NODE_HALTED' });

    // A restart stays halted and does not follow the log.
    await node.stop();
    const again = await startNode();
    expect(again.haltReason).toBe(node.haltReason);
    await expect(again.submit([canonicalBytes(signed('ledger.anchor', { hash: toHex(sha256(utf8('after restart'))) }, 'n3') as unknown as JsonValue)])).rejects.toMatchObject({ code: 'LEDGER.NODE_HALTED' });
  });
});
