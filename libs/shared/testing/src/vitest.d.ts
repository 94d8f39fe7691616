// Values the global setup hands to integration and e2e tests: `inject('databaseUrl')`.
import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the test PostgreSQL server; give each test file its own database (createTestDatabase). */
    databaseUrl: string;
    /** Bootstrap brokers of the test Kafka cluster, e.g. ['127.0.0.1:9092']. */
    kafkaBrokers: string[];
  }
}
