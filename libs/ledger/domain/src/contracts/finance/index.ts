import type { ContractHandler } from '../types';
import { creditLineContracts } from './credit-lines';
import { financingContractsFor } from './financing';
import { freezeContracts } from './freeze';
import { receivableAsset, receivableContracts } from './receivables';

export * from './money';
export * from './assets';
export * from './fields';
export * from './credit-lines';
export * from './financing';
export * from './receivables';
export * from './freeze';

/** The kinds of asset the financing contracts finance, one adapter each (warehouse receipts and leases join with their modules). */
export const financeableAssets = [receivableAsset] as const;

/** Every finance contract a node runs (registered in apps/ledger `ledgerRegistry()`). */
export const financeContracts: readonly ContractHandler[] = [...receivableContracts, ...creditLineContracts, ...financingContractsFor(financeableAssets), ...freezeContracts];
