export * from './ledger-node';
export * from './ledger-queries';
export * from './verifier-pool';
export * from './certified-blocks';
export * from './peer-bootstrap';
