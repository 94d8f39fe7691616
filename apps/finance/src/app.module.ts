import { join } from 'node:path';
import type { ServiceDefinition } from '@alliance/shared/feature-platform';
import { financeConfigShape } from './config';
import { type FinanceConfig, financeControllers, FinanceModule, financeResolvers } from './finance.module';

/** The finance service as the platform runs it: schema, routes prefix, config, feature modules. */
export const financeService: ServiceDefinition<FinanceConfig> = {
  name: 'finance',
  title: 'Alliance finance API',
  description: 'Receivable certificates, financing, warehouse receipts and equipment leases: commands signed for this organization and decided by the ledger contracts, a read model of the chain, a Kafka event for every state change.',
  schema: 'finance',
  restPrefix: 'finance/v1',
  configShape: financeConfigShape,
  migrationsDir: join(__dirname, '..', 'migrations'),
  graphql: 'subgraph',
  surface: [...financeControllers, ...financeResolvers],
  imports(runtime) {
    return [FinanceModule.forRoot(runtime)];
  },
};
