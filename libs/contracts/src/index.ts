export * from './envelope';
export * from './topics';
export * from './event-seal';
export * from './auth';
