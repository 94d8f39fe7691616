// Test-only helpers (type:testing): real PostgreSQL and Kafka for integration and e2e tests.
export {
  freePort,
  KAFKA_IMAGE,
  LOCAL_POSTGRES_URL,
  POSTGRES_IMAGE,
  resolveKafka,
  findPostgresBinDir,
  resolvePostgres,
  startPrivatePostgres,
  type InfrastructureDeps,
  type InfrastructureSource,
  type ResolvedKafka,
  type ResolvedPostgres,
  type Started,
} from './infrastructure';
export { createTestDatabase, type TestDatabase } from './database';
export { createTopic, probeKafka, readAll, uniqueTopicName, type Availability, type KafkaRecord } from './kafka';
export { privateKafka, type PrivateKafka } from './private-kafka';
