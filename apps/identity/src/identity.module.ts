import { type DynamicModule, Inject, Injectable, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ChainFollower, LedgerBlockSource, type Outbox, type Transport } from '@alliance/shared/data-access-messaging';
import { OUTBOX, TOKEN_VERIFIER, type ServiceConfig, type ServiceRuntime, TRANSPORT } from '@alliance/shared/feature-platform';
import type { identityConfigShape } from './config';
import { DevicesController, IDENTITY_FOLLOWER, IDENTITY_QUERIES, IDENTITY_READ_MODEL, KeysController, OrganizationsController, ProposalsController, ReadModelController } from './identity-api';
import { IdentityResolver } from './identity-graphql';
import { IdentityQueries } from './identity-queries';
import { IdentityReadModel } from './read-model';
import { SignInService } from './sign-in';
import { ManagedSigning, readMasterKey } from './managed-signing';
import { MANAGED_SIGNING, ManagedSigningController } from './managed-signing-api';
import { SIGN_IN, SignInController } from './sign-in-api';

/** What the identity service serves (its modules list these; docs/authorization.md is generated from them). */
export const identityControllers = [SignInController, ManagedSigningController, OrganizationsController, KeysController, DevicesController, ProposalsController, ReadModelController];
export const identityResolvers = [IdentityResolver];

export type IdentityConfig = ServiceConfig<typeof identityConfigShape>;

@Injectable()
class IdentityLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(IDENTITY_FOLLOWER) private readonly follower: ChainFollower,
    @Inject(SIGN_IN) private readonly signIn: SignInService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.signIn.init();
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
    // The read model ends sessions of ended keys; the sign-in service reads the read model: built in that order, wired here.
    let signIn: SignInService;
    return {
      module: IdentityModule,
      controllers: identityControllers,
      providers: [
        {
          provide: IDENTITY_READ_MODEL,
          inject: [{ token: OUTBOX, optional: true }],
          useFactory: (outbox: Outbox | undefined) =>
            new IdentityReadModel({
              pool: runtime.pool,
              chainId: config.CHAIN_ID,
              nodeId,
              outbox,
              // A key that ended, or an organization that left, signs nobody in from that block on: its sessions end with it.
              onApplied: async (client, _block, changes) => {
                for (const { change } of changes) {
                  if (change.kind === 'key.rotated' || change.kind === 'key.revoked') await signIn.revokeKey(client, change.organizationId, change.keyId, change.kind === 'key.revoked' ? 'key revoked' : 'key rotated');
                  if (change.kind === 'organization.left') await signIn.revokeKey(client, change.organizationId, null, 'organization left the consortium');
                }
              },
            }),
        },
        {
          provide: SIGN_IN,
          inject: [IDENTITY_READ_MODEL],
          useFactory: (readModel: IdentityReadModel) => {
            signIn = new SignInService({
              pool: runtime.pool,
              readModel,
              chainId: config.CHAIN_ID,
              issuerOrganizationId: config.ORG_ID,
              challengeTtlSeconds: config.IDENTITY_CHALLENGE_TTL_SECONDS,
              accessTokenTtlSeconds: config.IDENTITY_ACCESS_TOKEN_TTL_SECONDS,
              refreshTokenTtlSeconds: config.IDENTITY_REFRESH_TOKEN_TTL_SECONDS,
            });
            return signIn;
          },
        },
        { provide: IDENTITY_QUERIES, inject: [IDENTITY_READ_MODEL], useFactory: (readModel: IdentityReadModel) => new IdentityQueries(readModel) },
        {
          provide: IDENTITY_FOLLOWER,
          inject: [IDENTITY_READ_MODEL, { token: TRANSPORT, optional: true }],
          useFactory: (readModel: IdentityReadModel, transport: Transport | undefined) => {
            const follower = new ChainFollower({
              projection: readModel,
              pool: runtime.pool,
              schema: 'identity',
              service: 'IDENTITY',
              transport,
              group: `identity-${config.ORG_ID}`,
              nodeId,
              chainId: config.CHAIN_ID,
              ledger: config.LEDGER_URL ? new LedgerBlockSource(config.LEDGER_URL, 'IDENTITY') : undefined,
              pollIntervalMs: config.IDENTITY_POLL_INTERVAL_MS,
              logger: ({ level, message, context }) => log[level](context ?? {}, message),
            });
            runtime.readinessChecks.push({ name: 'identity-read-model', check: async () => ({ ok: true, detail: follower.problem ? `behind: ${follower.problem}` : undefined }) });
            return follower;
          },
        },
        { provide: TOKEN_VERIFIER, useExisting: SIGN_IN },
        {
          provide: MANAGED_SIGNING,
          inject: [IDENTITY_READ_MODEL],
          useFactory: (readModel: IdentityReadModel) =>
            new ManagedSigning({
              pool: runtime.pool,
              readModel,
              chainId: config.CHAIN_ID,
              organizationId: config.ORG_ID,
              masterKey: config.IDENTITY_MANAGED_SIGNING_KEY_FILE ? readMasterKey(config.IDENTITY_MANAGED_SIGNING_KEY_FILE) : undefined,
            }),
        },
        IdentityLifecycle,
        ...identityResolvers,
      ],
      exports: [IDENTITY_QUERIES, IDENTITY_READ_MODEL, SIGN_IN, TOKEN_VERIFIER],
    };
  }
}
