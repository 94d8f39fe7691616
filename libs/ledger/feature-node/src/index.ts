export * from './ledger-node';
export * from './ledger-queries';
