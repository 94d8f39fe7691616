export * from './money';
export * from './assets';
