import { readFileSync } from 'node:fs';
import { type DynamicModule, Inject, Injectable, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Topics } from '@alliance/contracts';
import { canonicalBytes, fromHex, nodeVerify } from '@alliance/protocol';
import { agentKeyContracts, roleContracts, deviceContracts, membershipContracts, provenanceContracts, custodyContracts, masterDataContracts, financeContracts, anchorContract, configUpdateContract, ContractRegistry, genesisContract, type JsonValue, type OrderingLog, orderingTopicOf } from '@alliance/ledger/domain';
import { KafkaOrderingLog, PostgresOrderingLog } from '@alliance/ledger/data-access';
import { LedgerNode, VerifierPool } from '@alliance/ledger/feature-node';
import { createPool } from '@alliance/shared/data-access-postgres';
import { type Outbox } from '@alliance/shared/data-access-messaging';
import { kafkaBrokersOf, kafkaSecurityOf, OUTBOX, type ServiceConfig, type ServiceRuntime } from '@alliance/shared/feature-platform';
import type { ledgerConfigShape } from './config';
import { BlocksController, LEDGER_LIMITS, LEDGER_NODE, ProofsController, TransactionsController } from './ledger-api';
import { LedgerResolver, LedgerTransactionResolver } from './ledger-graphql';

export type LedgerConfig = ServiceConfig<typeof ledgerConfigShape>;

/** The contracts every node of this build runs; later modules register theirs here. */
export function ledgerRegistry(): ContractRegistry {
  return new ContractRegistry([genesisContract, configUpdateContract, anchorContract, ...agentKeyContracts, ...roleContracts, ...deviceContracts, ...membershipContracts, ...provenanceContracts, ...custodyContracts, ...masterDataContracts, ...financeContracts]);
}

interface NodeKeyFile {
  publicKey: string;
  privateKey: string;
}

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read ${what} ${path}: ${(error as Error).message}`);
  }
}

/** Builds the node from configuration; the platform has already validated the variables. */
export function createLedgerNode(runtime: ServiceRuntime<LedgerConfig>, outbox: Outbox | undefined): LedgerNode {
  const config = runtime.config;
  if (!config.LEDGER_GENESIS_FILE) throw new Error('LEDGER_GENESIS_FILE is required: the genesis transaction every node of the chain starts from');
  const genesis = canonicalBytes(readJson(config.LEDGER_GENESIS_FILE, 'genesis file') as JsonValue);
  let nodeKey;
  if (config.LEDGER_ROLE === 'member') {
    if (!config.LEDGER_NODE_KEY_FILE) throw new Error('LEDGER_NODE_KEY_FILE is required for a member node: it signs block headers and checkpoints');
    const key = readJson(config.LEDGER_NODE_KEY_FILE, 'node key file') as NodeKeyFile;
    nodeKey = { algorithm: 'ed25519' as const, publicKey: fromHex(key.publicKey), privateKey: fromHex(key.privateKey) };
  }
  const logger = runtime.logger.child({ component: 'ledger-node' });
  const orderingLogger = (entry: { level: 'error' | 'warn' | 'info' | 'debug'; message: string; context?: unknown }) => logger[entry.level](entry.context ?? {}, entry.message);
  const log: OrderingLog =
    config.MESSAGING === 'kafka'
      ? new KafkaOrderingLog({ brokers: kafkaBrokersOf(config), security: kafkaSecurityOf(config), chainId: config.CHAIN_ID, organizationId: config.ORG_ID, logger: orderingLogger })
      : new PostgresOrderingLog({
          pool: config.ORDERING_DATABASE_URL ? createPool(config.ORDERING_DATABASE_URL, { applicationName: 'alliance-ledger-ordering', max: 4 }) : runtime.pool,
          chainId: config.CHAIN_ID,
          logger: orderingLogger,
        });
  const nodeId = config.LEDGER_NODE_ID ?? `${config.ORG_ID}-node`;
  const node: LedgerNode = new LedgerNode({
    chainId: config.CHAIN_ID,
    organizationId: config.ORG_ID,
    role: config.LEDGER_ROLE,
    nodeKey,
    genesis,
    pool: runtime.pool,
    log,
    orderingSource: config.MESSAGING === 'kafka' ? `kafka:${orderingTopicOf(config.CHAIN_ID)}/0` : 'solo',
    bootstrapPeers: config.LEDGER_BOOTSTRAP_PEERS,
    partitionBlocks: config.LEDGER_PARTITION_BLOCKS,
    registry: ledgerRegistry(),
    verifier: nodeVerify,
    verifierPool: VerifierPool.shared({ threads: config.LEDGER_VERIFY_THREADS, logger: (level, message) => logger[level](message) }),
    logger: (level, message, context) => logger[level](context ?? {}, message),
    onForkDetected: outbox
      ? async (client, fork) => {
          await outbox.enqueue(client, Topics.ledgerForkDetected, { chainId: config.CHAIN_ID, nodeId, ...fork }, { key: config.CHAIN_ID, correlationId: `fork-${fork.blockNumber}`, causationId: null, producer: 'ledger' });
        }
      : undefined,
    onCommitted: outbox
      ? async (client, committed) => {
          await outbox.enqueue(
            client,
            Topics.ledgerBlockCommitted,
            {
              chainId: committed.header.chainId,
              nodeId,
              blockNumber: committed.header.blockNumber,
              headerHash: committed.headerHash,
              transactionCount: committed.header.transactionCount,
              treeSize: committed.header.logSize,
              committedAt: committed.header.timestamp,
              transactions: committed.execution.transactions.map((t, i) => ({
                transactionId: t.result.transactionId,
                leafIndex: committed.header.logSize - committed.header.transactionCount + i,
                type: t.envelope?.transaction.type ?? null,
                organizationId: t.envelope?.transaction.creator.organizationId ?? null,
                timestamp: t.envelope?.transaction.timestamp ?? null,
                code: t.result.code,
                payload: (t.envelope?.transaction.payload as Record<string, unknown> | undefined) ?? null,
                writes: t.result.writes.map((w) => ({ key: w.key, value: w.value, version: w.version })),
              })),
            },
            { key: committed.header.chainId, correlationId: `block-${committed.header.blockNumber}`, causationId: null, producer: 'ledger' },
          );
        }
      : undefined,
  });
  // A halted node (fork) is not ready: its copy of the chain disagrees with a member's.
  runtime.readinessChecks.push({ name: 'ledger', check: async () => (node.haltReason ? { ok: false, detail: `halted: ${node.haltReason}` } : { ok: true }) });
  return node;
}

@Injectable()
class LedgerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(LEDGER_NODE) private readonly node: LedgerNode) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.node.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.node.stop();
  }
}

/** What a ledger node serves (the module lists these; docs/authorization.md is generated from them). */
export const ledgerControllers = [TransactionsController, BlocksController, ProofsController];
export const ledgerResolvers = [LedgerResolver, LedgerTransactionResolver];

@Module({})
export class LedgerModule {
  static forRoot(runtime: ServiceRuntime<LedgerConfig>): DynamicModule {
    return {
      module: LedgerModule,
      controllers: ledgerControllers,
      providers: [
        { provide: LEDGER_NODE, inject: [{ token: OUTBOX, optional: true }], useFactory: (outbox: Outbox | undefined) => createLedgerNode(runtime, outbox) },
        { provide: LEDGER_LIMITS, useValue: { commitWaitMs: runtime.config.LEDGER_COMMIT_WAIT_MS, batchLimit: runtime.config.LEDGER_BATCH_LIMIT } },
        LedgerLifecycle,
        ...ledgerResolvers,
      ],
      exports: [LEDGER_NODE],
    };
  }
}
