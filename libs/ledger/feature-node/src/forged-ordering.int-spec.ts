// Issue 9, cross-organization attacks through Kafka: a ledger node ordering on a
// real Kafka topic, and a client that is not the node (anyone the broker lets
// write to `ledger.<chainId>.ordering.v1`) appending records straight onto it:
// org1's name signed with org2's key, a replay, U+0000 text, garbage. None of
// them writes to the world state; the valid transaction after them commits.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { canonicalBytes, sha256, sign, SignatureDomain, toBase64Url, toHex, transactionId, utf8, type Envelope } from '@alliance/protocol';
import { anchorContract, configUpdateContract, ContractRegistry, genesisContract, type JsonValue, orderingTopicOf } from '@alliance/ledger/domain';
import { KafkaOrderingLog } from '@alliance/ledger/data-access';
import { createPool, readMigrations, runMigrations, type Pool } from '@alliance/shared/data-access-postgres';
import { createTestDatabase, type TestDatabase } from '@alliance/shared/testing';
import { LedgerNode } from './ledger-node';
import { VerifierPool } from './verifier-pool';
import { until } from '../test/until';
import { chainFixture } from '../test/chain-fixture';

const { chainId, orgs, signed, nodeOptions } = chainFixture(`forged-${Date.now().toString(36)}`);
const bytesOf = (envelope: Envelope) => canonicalBytes(envelope as unknown as JsonValue);
const anchor = (label: string) => signed('ledger.anchor', { hash: toHex(sha256(utf8(label))) }, label.replace(/[^A-Za-z0-9_-]/g, '-'));
/** org1's transaction with org2's signature over it (signTransaction refuses to make one). */
function signedByOther(envelope: Envelope): Envelope {
  const value = toBase64Url(sign('ed25519', orgs[1].key.privateKey, SignatureDomain.transaction, canonicalBytes(envelope.transaction as unknown as JsonValue)));
  return { ...envelope, signature: { ...envelope.signature, value } };
}

describe('LedgerNode on a Kafka ordering topic written by others', () => {
  let database: TestDatabase;
  let pool: Pool;
  let nodeLog: KafkaOrderingLog;
  let intruder: KafkaOrderingLog;
  let node: LedgerNode;
  const verifierPool = new VerifierPool({ threads: 1 });

  beforeAll(async () => {
    const brokers = inject('kafkaBrokers');
    database = await createTestDatabase(inject('databaseUrl'), 'ledger_forged_ordering');
    pool = createPool(database.url, { applicationName: 'ledger-forged-ordering-test', schema: 'ledger', max: 8 });
    await runMigrations(pool, 'ledger', readMigrations(join(__dirname, '../../../../apps/ledger/migrations')));
    nodeLog = new KafkaOrderingLog({ brokers, chainId, organizationId: 'org1' });
    // Not the node: a client of its own, with a consumer group of its own.
    intruder = new KafkaOrderingLog({ brokers, chainId, organizationId: 'intruder' });
    node = new LedgerNode(nodeOptions(pool, nodeLog, new ContractRegistry([genesisContract, configUpdateContract, anchorContract]), verifierPool, { orderingSource: `kafka:${orderingTopicOf(chainId)}/0` }));
    await node.start();
  }, 120_000);

  afterAll(async () => {
    await node?.stop().catch(() => undefined);
    await nodeLog?.close().catch(() => undefined);
    await intruder?.close().catch(() => undefined);
    await verifierPool.close();
    await pool?.end().catch(() => undefined);
    await database?.drop();
  });

  it('commits forged, replayed and unstorable records with their codes, writing nothing, and the valid one after them', async () => {
    const first = anchor('first');
    const [firstId] = await node.submit([bytesOf(first)]);
    await until('the first transaction', async () => ((await pool.query("SELECT 1 FROM transactions WHERE transaction_id = $1 AND code = 'VALID'", [firstId])).rowCount ?? 0) > 0);

    const forged = signedByOther(anchor('org1 by org2'));
    const unstorable = signed('ledger.anchor', { hash: toHex(sha256(utf8('nul'))), note: 'a\u0000b' }, 'nul');
    const valid = anchor('after the forgeries');
    await intruder.append([
      { kind: 'transaction', bytes: bytesOf(forged) },
      { kind: 'transaction', bytes: bytesOf(first) },
      { kind: 'transaction', bytes: bytesOf(unstorable) },
      { kind: 'transaction', bytes: utf8('{"not":"an envelope"}') },
      { kind: 'transaction', bytes: bytesOf(valid) },
    ]);
    const validId = transactionId(valid.transaction);
    await until('the valid transaction after the forgeries', async () => ((await pool.query('SELECT 1 FROM transactions WHERE transaction_id = $1', [validId])).rowCount ?? 0) > 0, 60_000);

    const codes = new Map((await pool.query<{ transaction_id: string; code: string }>('SELECT transaction_id, code FROM transactions')).rows.map((r) => [`${r.transaction_id}:${r.code}`, r.code]));
    const codesOf = (id: string) => [...codes.keys()].filter((k) => k.startsWith(`${id}:`)).map((k) => codes.get(k));
    expect(codesOf(transactionId(forged.transaction))).toEqual(['LEDGER.BAD_SIGNATURE']);
    expect(codesOf(firstId).sort()).toEqual(['LEDGER.DUPLICATE_TRANSACTION', 'VALID']);
    expect(codesOf(transactionId(unstorable.transaction))).toEqual(['LEDGER.UNSTORABLE_TEXT']);
    expect(codesOf(validId)).toEqual(['VALID']);
    // The world state holds the genesis configuration and the two valid anchors, nothing the intruder wrote.
    const { rows } = await pool.query<{ key: string; transaction_id: string }>("SELECT key, transaction_id FROM state WHERE key LIKE 'anchor/%' ORDER BY key");
    expect(rows.map((r) => r.transaction_id).sort()).toEqual([firstId, validId].sort());
  }, 120_000);
});
