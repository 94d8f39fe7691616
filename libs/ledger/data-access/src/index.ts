// Ledger data access: the ordering log over Kafka (production) and PostgreSQL (embedded "solo" mode).
export { KafkaOrderingLog, type KafkaOrderingLogOptions, KIND_HEADER, orderingGroupOf } from './kafka-ordering-log';
export { PostgresOrderingLog, type PostgresOrderingLogOptions } from './postgres-ordering-log';
export { ORDERING_SCHEMA, orderingMigrations } from './migrations';
export { BlockStore, type BlockStoreOptions, DEFAULT_PARTITION_BLOCKS, type PersistedBlock, type PersistedTransaction, type PersistedStateWrite, type NodePosition, type StoredBlock, type StoredTransaction, type StoredSignature, type StoredBlockRow, type TransactionRow, type StoredStateRow } from './block-store';
