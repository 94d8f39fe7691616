// The identity read model's rules: framework-free, over the ledger's own contract state.
export * from './projection';
export * from './views';
export * from './principal';
