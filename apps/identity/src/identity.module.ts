import { type DynamicModule, Inject, Injectable, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Outbox, Transport } from '@alliance/shared/data-access-messaging';
import { OUTBOX, type ServiceConfig, type ServiceRuntime, TRANSPORT } from '@alliance/shared/feature-platform';
import type { identityConfigShape } from './config';
import { IdentityFollower } from './follower';
import { DevicesController, IDENTITY_FOLLOWER, IDENTITY_QUERIES, IDENTITY_READ_MODEL, KeysController, OrganizationsController, ProposalsController, ReadModelController } from './identity-api';
import { IdentityResolver } from './identity-graphql';
import { IdentityQueries } from './identity-queries';
import { IdentityReadModel, LedgerBlockSource } from './read-model';

export type IdentityConfig = ServiceConfig<typeof identityConfigShape>;

@Injectable()
class IdentityLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(IDENTITY_FOLLOWER) private readonly follower: IdentityFollower) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.follower.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.follower.stop();
  }
}

@Module({})
export class IdentityModule {
  static forRoot(runtime: ServiceRuntime<IdentityConfig>): DynamicModule {
    const config = runtime.config;
    const nodeId = config.IDENTITY_LEDGER_NODE_ID ?? `${config.ORG_ID}-node`;
    const log = runtime.logger.child({ component: 'identity-read-model' });
    return {
      module: IdentityModule,
      controllers: [OrganizationsController, KeysController, DevicesController, ProposalsController, ReadModelController],
      providers: [
        {
          provide: IDENTITY_READ_MODEL,
          inject: [{ token: OUTBOX, optional: true }],
          useFactory: (outbox: Outbox | undefined) => new IdentityReadModel({ pool: runtime.pool, chainId: config.CHAIN_ID, nodeId, outbox }),
        },
        { provide: IDENTITY_QUERIES, inject: [IDENTITY_READ_MODEL], useFactory: (readModel: IdentityReadModel) => new IdentityQueries(readModel) },
        {
          provide: IDENTITY_FOLLOWER,
          inject: [IDENTITY_READ_MODEL, { token: TRANSPORT, optional: true }],
          useFactory: (readModel: IdentityReadModel, transport: Transport | undefined) => {
            const follower = new IdentityFollower({
              readModel,
              pool: runtime.pool,
              transport,
              group: `identity-${config.ORG_ID}`,
              nodeId,
              chainId: config.CHAIN_ID,
              ledger: config.LEDGER_URL ? new LedgerBlockSource(config.LEDGER_URL) : undefined,
              pollIntervalMs: config.IDENTITY_POLL_INTERVAL_MS,
              logger: ({ level, message, context }) => log[level](context ?? {}, message),
            });
            runtime.readinessChecks.push({ name: 'identity-read-model', check: async () => ({ ok: true, detail: follower.problem ? `behind: ${follower.problem}` : undefined }) });
            return follower;
          },
        },
        IdentityLifecycle,
        IdentityResolver,
      ],
      exports: [IDENTITY_QUERIES, IDENTITY_READ_MODEL],
    };
  }
}
