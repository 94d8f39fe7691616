import type { ContractHandler } from '../types';
import { creditLineContracts } from './credit-lines';
import { financingContractsFor } from './financing';
import { freezeContracts } from './freeze';
import { leaseAsset, leaseContracts } from './leases';
import { receivableAsset, receivableContracts } from './receivables';
import { warehouseReceiptAsset, warehouseReceiptContracts } from './warehouse-receipts';

export * from './money';
export * from './assets';
export * from './fields';
export * from './credit-lines';
export * from './financing';
export * from './receivables';
export * from './warehouse-receipts';
export * from './leases';
export * from './freeze';

/** The kinds of asset the financing contracts finance, one adapter each. */
export const financeableAssets = [receivableAsset, warehouseReceiptAsset, leaseAsset] as const;

/** Every finance contract a node runs (registered in apps/ledger `ledgerRegistry()`). */
export const financeContracts: readonly ContractHandler[] = [
  ...receivableContracts,
  ...creditLineContracts,
  ...financingContractsFor(financeableAssets),
  ...freezeContracts,
  ...warehouseReceiptContracts,
  ...leaseContracts,
];
