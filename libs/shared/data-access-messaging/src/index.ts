export type {
  LogEntry,
  LogLevel,
  MessagingLogger,
  RecordBatch,
  SubscribeOptions,
  Subscription,
  Transport,
  TransportKind,
  TransportRecord,
} from './ports';
export { silentLogger } from './ports';
export { type BackoffOptions, backoffDelay, sleep } from './backoff';
export { kafkaLogCreator, withTimeout } from './kafka-support';
export { classifyFailure, describeFailure, type FailureClass, type FailureDescription, type MessagingErrorCode, MessagingErrorCodes } from './errors';
export { type DeadLetterPayload, deadLetterPayloadSchema, type DecodeResult, decodeRecord, encodeEnvelope } from './codec';
export { type EnqueueMeta, Outbox, type OutboxOptions, OutboxRelay, type OutboxRelayOptions } from './outbox';
export { type Consumer, type ConsumerOptions, type ConsumerOutcome, type DeliveryContext, type EventHandler, type OutcomeKind, startConsumer } from './consumer';
export { KafkaTransport, type KafkaTransportOptions } from './kafka-transport';
export { PostgresTransport, type PostgresTransportOptions } from './postgres-transport';
export { createTransport, type TransportConfig } from './create-transport';
export { BUS_SCHEMA, busMigrations, messagingMigrations } from './migrations';
export { type ApplyOutcome, type BlockProjection, ChainFollower, ChainFollowerErrors, type ChainFollowerOptions, type CommittedBlock, type CommittedTransaction, type CommittedWrite, LedgerBlockSource } from './chain-follower';
export { type ChainStatus, ChainWriter, chainWriterErrors, type ChainWriterOptions, readSigningKey, type SigningIdentity } from './chain-writer';
export { ChainStateMirror, type ChainStateMirrorOptions } from './chain-state-mirror';
export { ProjectionCursor, type ProjectionCursorOptions, type ProjectionPosition } from './projection-cursor';
