import { type DynamicModule, Inject, Injectable, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ChainFollower, ChainWriter, LedgerBlockSource, type Outbox, readSigningKey, type Transport } from '@alliance/shared/data-access-messaging';
import { OUTBOX, type ServiceConfig, type ServiceRuntime, TRANSPORT } from '@alliance/shared/feature-platform';
import { CommandService } from './commands';
import type { financeConfigShape } from './config';
import { COMMAND_SERVICE, FINANCE_FOLLOWER, FINANCE_READ_MODEL, FinanceCommandsController, FinanceReadModelController, FinanceTransactionsController } from './finance-api';
import { FinanceResolver } from './finance-graphql';
import { FINANCE_QUERIES, FinanceQueries } from './finance-queries';
import { FinanceQueriesController } from './finance-query-api';
import { confirmOnHand, HoldWatcher, signalKeysOf } from './holds';
import { publicKeyOf } from '@alliance/protocol';
import { FinanceReadModel } from './read-model';

/** What the finance service serves (docs/authorization.md is generated from these). */
export const financeControllers = [FinanceCommandsController, FinanceTransactionsController, FinanceReadModelController, FinanceQueriesController];
export const financeResolvers = [FinanceResolver];

export type FinanceConfig = ServiceConfig<typeof financeConfigShape>;

/** The hold watcher (holds.ts), or null when this service has no signing key. */
export const HOLD_WATCHER = Symbol('alliance.finance-hold-watcher');

@Injectable()
class FinanceLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(FINANCE_FOLLOWER) private readonly follower: ChainFollower,
    @Inject(COMMAND_SERVICE) private readonly commands: CommandService,
    @Inject(HOLD_WATCHER) private readonly holds: HoldWatcher | null,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.follower.start();
    this.commands.start();
    await this.holds?.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.holds?.stop();
    await this.commands.stop();
    await this.follower.stop();
  }
}

@Module({})
export class FinanceModule {
  static forRoot(runtime: ServiceRuntime<FinanceConfig>): DynamicModule {
    const config = runtime.config;
    const nodeId = config.FINANCE_LEDGER_NODE_ID ?? `${config.ORG_ID}-node`;
    const log = runtime.logger.child({ component: 'finance' });
    const signingKey = config.FINANCE_SIGNING_KEY_FILE ? readSigningKey(config.FINANCE_SIGNING_KEY_FILE, config.ORG_ID, 'FINANCE_SIGNING_KEY_FILE') : undefined;
    const writer = new ChainWriter({
      service: 'FINANCE',
      keyFileVariable: 'FINANCE_SIGNING_KEY_FILE',
      chainId: config.CHAIN_ID,
      ledgerUrl: config.LEDGER_URL,
      key: signingKey,
    });
    const readModel = new FinanceReadModel({ pool: runtime.pool, chainId: config.CHAIN_ID, nodeId, onApplied: CommandService.markApplied });
    return {
      module: FinanceModule,
      controllers: financeControllers,
      providers: [
        { provide: FINANCE_READ_MODEL, useValue: readModel },
        {
          provide: FINANCE_FOLLOWER,
          inject: [{ token: TRANSPORT, optional: true }, { token: OUTBOX, optional: true }],
          useFactory: (transport: Transport | undefined, outbox: Outbox | undefined) => {
            // finance.<kind>.changed.v1 go out through the outbox in the transaction applying their block.
            readModel.publishThrough(outbox);
            const follower = new ChainFollower({
              projection: readModel,
              pool: runtime.pool,
              schema: 'finance',
              service: 'FINANCE',
              transport,
              group: `finance-${config.ORG_ID}`,
              nodeId,
              chainId: config.CHAIN_ID,
              ledger: config.LEDGER_URL ? new LedgerBlockSource(config.LEDGER_URL, 'FINANCE') : undefined,
              pollIntervalMs: config.FINANCE_POLL_INTERVAL_MS,
              logger: ({ level, message, context }) => log[level](context ?? {}, message),
            });
            runtime.readinessChecks.push({ name: 'finance-read-model', check: async () => ({ ok: true, detail: follower.problem ? `behind: ${follower.problem}` : undefined }) });
            return follower;
          },
        },
        {
          provide: COMMAND_SERVICE,
          inject: [FINANCE_FOLLOWER],
          useFactory: (follower: ChainFollower) =>
            new CommandService({
              pool: runtime.pool,
              writer,
              recordOf: (key) => readModel.record(key),
              catchUp: async (blockNumber) => {
                if ((await readModel.lastBlock()) < blockNumber) await follower.catchUp(blockNumber);
              },
              prechecks: writer.organizationId && config.FINANCE_PROVENANCE_CHECKS === 'true' ? { 'finance.warehouse-receipt.issue': (payload) => confirmOnHand(runtime.pool, writer.organizationId as string, payload) } : {},
              logger: (level, message, context) => log[level](context ?? {}, message),
            }),
        },
        {
          provide: HOLD_WATCHER,
          inject: [COMMAND_SERVICE, FINANCE_FOLLOWER, { token: TRANSPORT, optional: true }],
          useFactory: (commands: CommandService, follower: ChainFollower, transport: Transport | undefined) =>
            writer.organizationId && config.FINANCE_PROVENANCE_CHECKS === 'true'
              ? new HoldWatcher({
                  pool: runtime.pool,
                  trustedSealKeys: signalKeysOf(config.FINANCE_SIGNAL_KEYS, writer.organizationId, signingKey ? [{ organizationId: signingKey.organizationId, algorithm: signingKey.algorithm, publicKey: publicKeyOf(signingKey.algorithm, signingKey.privateKey) }] : []),
                  commands,
                  organizationId: writer.organizationId,
                  transport,
                  lastBlock: () => readModel.lastBlock(),
                  catchUp: (blockNumber) => follower.catchUp(blockNumber),
                  sweepIntervalMs: config.FINANCE_HOLD_SWEEP_MS,
                  logger: (level, message, context) => log[level](context ?? {}, message),
                })
              : null,
        },
        { provide: FINANCE_QUERIES, useFactory: () => new FinanceQueries(runtime.pool) },
        ...financeResolvers,
        FinanceLifecycle,
      ],
      exports: [FINANCE_READ_MODEL, COMMAND_SERVICE, HOLD_WATCHER],
    };
  }
}
