export * from './alliance-error';
