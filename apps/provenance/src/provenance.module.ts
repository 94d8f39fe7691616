import { type DynamicModule, Inject, Injectable, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ChainFollower, ChainWriter, LedgerBlockSource, type Outbox, readSigningKey, type Transport } from '@alliance/shared/data-access-messaging';
import { OUTBOX, type ServiceConfig, type ServiceRuntime, TRANSPORT } from '@alliance/shared/feature-platform';
import { ALERT_SERVICE, AlertService } from './alerts';
import { CaptureService } from './capture';
import type { provenanceConfigShape } from './config';
import { EventRepository } from './events';
import { MasterDataController } from './master-data-api';
import {
  CAPTURE_SERVICE,
  CHAIN_WRITER,
  CustodyController,
  EpcisController,
  EVENT_REPOSITORY,
  PROVENANCE_FOLLOWER,
  PROVENANCE_READ_MODEL,
  ProvenanceReadModelController,
  TRACE_SERVICE,
  TraceController,
} from './provenance-api';
import { PrivateDataStore } from './private-data';
import { AssetTelemetryResolver, ProvenanceResolver } from './provenance-graphql';
import { PRIVATE_DATA_STORE, PrivateDataController } from './private-data-api';
import { ProvenanceReadModel, transferEvents } from './read-model';
import { sensorBatchEvents, SensorAlerts } from './sensor-read-model';
import { AlertsController, SensorsController } from './sensors-api';
import { STOCK_POOL, StockController, StockLevels } from './stock';
import { TELEMETRY_SERVICE, TelemetryService } from './telemetry';
import { TraceService } from './trace';

/** What the provenance service serves (docs/authorization.md is generated from these). */
export const provenanceControllers = [EpcisController, PrivateDataController, TraceController, CustodyController, MasterDataController, SensorsController, AlertsController, StockController, ProvenanceReadModelController];
export const provenanceResolvers = [ProvenanceResolver, AssetTelemetryResolver];

export type ProvenanceConfig = ServiceConfig<typeof provenanceConfigShape>;

@Injectable()
class ProvenanceLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(PROVENANCE_FOLLOWER) private readonly follower: ChainFollower,
    @Inject(CAPTURE_SERVICE) private readonly captures: CaptureService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.follower.start();
    this.captures.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.captures.stop();
    await this.follower.stop();
  }
}

@Module({})
export class ProvenanceModule {
  static forRoot(runtime: ServiceRuntime<ProvenanceConfig>): DynamicModule {
    const config = runtime.config;
    const nodeId = config.PROVENANCE_LEDGER_NODE_ID ?? `${config.ORG_ID}-node`;
    const log = runtime.logger.child({ component: 'provenance' });
    const signingKey = config.PROVENANCE_SIGNING_KEY_FILE ? readSigningKey(config.PROVENANCE_SIGNING_KEY_FILE, config.ORG_ID, 'PROVENANCE_SIGNING_KEY_FILE') : undefined;
    const writer = new ChainWriter({
      service: 'PROVENANCE',
      keyFileVariable: 'PROVENANCE_SIGNING_KEY_FILE',
      chainId: config.CHAIN_ID,
      ledgerUrl: config.LEDGER_URL,
      key: signingKey,
    });
    const sensorAlerts = new SensorAlerts();
    const stock = new StockLevels();
    const readModel = new ProvenanceReadModel({
      pool: runtime.pool,
      chainId: config.CHAIN_ID,
      nodeId,
      derivers: [transferEvents, sensorBatchEvents, sensorAlerts.deriver],
      onApplied: async (client, _block, added, publish) => {
        const committed = new Map<string, number>();
        for (const row of added) if (row.event.origin === 'capture') committed.set(row.tx.transactionId, _block.blockNumber);
        await CaptureService.markCommitted(client, [...committed].map(([transactionId, blockNumber]) => ({ transactionId, blockNumber })));
        await sensorAlerts.onApplied(client, _block, added, publish);
        await stock.onApplied(client, _block, added, publish);
      },
    });
    return {
      module: ProvenanceModule,
      controllers: provenanceControllers,
      providers: [
        { provide: CHAIN_WRITER, useValue: writer },
        { provide: PROVENANCE_READ_MODEL, useValue: readModel },
        {
          provide: PROVENANCE_FOLLOWER,
          inject: [{ token: TRANSPORT, optional: true }, { token: OUTBOX, optional: true }],
          useFactory: (transport: Transport | undefined, outbox: Outbox | undefined) => {
            // Alerts go out through the outbox in the transaction applying their block (before the follower applies any).
            sensorAlerts.publishThrough(outbox, signingKey);
            stock.publishThrough(outbox, signingKey);
            const follower = new ChainFollower({
              projection: readModel,
              pool: runtime.pool,
              schema: 'provenance',
              service: 'PROVENANCE',
              transport,
              group: `provenance-${config.ORG_ID}`,
              nodeId,
              chainId: config.CHAIN_ID,
              ledger: config.LEDGER_URL ? new LedgerBlockSource(config.LEDGER_URL, 'PROVENANCE') : undefined,
              pollIntervalMs: config.PROVENANCE_POLL_INTERVAL_MS,
              logger: ({ level, message, context }) => log[level](context ?? {}, message),
            });
            runtime.readinessChecks.push({ name: 'provenance-read-model', check: async () => ({ ok: true, detail: follower.problem ? `behind: ${follower.problem}` : undefined }) });
            return follower;
          },
        },
        {
          provide: CAPTURE_SERVICE,
          useFactory: () => new CaptureService({ pool: runtime.pool, writer, logger: (level, message, context) => log[level](context ?? {}, message) }),
        },
        {
          provide: PRIVATE_DATA_STORE,
          inject: [PROVENANCE_FOLLOWER],
          useFactory: (follower: ChainFollower) =>
            new PrivateDataStore(runtime.pool, readModel, writer, async (blockNumber) => {
              if ((await readModel.lastBlock()) < blockNumber) await follower.catchUp(blockNumber).catch(() => undefined);
            }),
        },
        { provide: EVENT_REPOSITORY, inject: [PRIVATE_DATA_STORE], useFactory: (store: PrivateDataStore) => new EventRepository(runtime.pool, writer, store) },
        { provide: TRACE_SERVICE, useFactory: () => new TraceService(runtime.pool) },
        { provide: ALERT_SERVICE, useFactory: () => new AlertService(runtime.pool) },
        { provide: TELEMETRY_SERVICE, useFactory: () => new TelemetryService(runtime.pool) },
        { provide: STOCK_POOL, useValue: runtime.pool },
        ...provenanceResolvers,
        ProvenanceLifecycle,
      ],
      exports: [PROVENANCE_READ_MODEL, CHAIN_WRITER, ALERT_SERVICE],
    };
  }
}
