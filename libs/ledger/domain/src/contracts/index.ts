export * from './types';
export * from './registry';
export * from './anchor';
export * from './config';
export * from './executor';
