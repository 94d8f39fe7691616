import type { Pool } from '@alliance/shared/data-access-postgres';
import { KafkaTransport, type KafkaTransportOptions } from './kafka-transport';
import type { Transport } from './ports';
import { PostgresTransport, type PostgresTransportOptions } from './postgres-transport';

export type TransportConfig =
  | ({ readonly kind: 'kafka'; readonly brokers: string[]; readonly clientId: string } & Omit<KafkaTransportOptions, 'brokers' | 'clientId'>)
  | ({ readonly kind: 'postgres'; readonly pool: Pool } & Omit<PostgresTransportOptions, 'pool'>);

/** Kafka in production, the PostgreSQL log in embedded mode; callers see only the port. */
export function createTransport(config: TransportConfig): Transport {
  switch (config.kind) {
    case 'kafka': {
      const { kind: _kind, ...options } = config;
      return new KafkaTransport(options);
    }
    case 'postgres': {
      const { kind: _kind, ...options } = config;
      return new PostgresTransport(options);
    }
  }
}
