export * from './types';
export * from './registry';
export * from './anchor';
export * from './config';
export * from './agent-keys';
export * from './roles';
export * from './membership';
export * from './executor';
