// The ledger's domain: framework-free rules every member node must apply identically.
export * from './ordering';
export * from './ordering-errors';
export * from './block-cutter';
export * from './ordering-driver';
export { InMemoryOrderingLog, type InMemoryOrderingLogOptions } from './in-memory-ordering-log';
export * from './header-signature-record';
export * from './contracts';
