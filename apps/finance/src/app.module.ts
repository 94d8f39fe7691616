import { join } from 'node:path';
import type { ServiceConfig, ServiceDefinition } from '@alliance/shared/feature-platform';
import { financeConfigShape } from './config';

/** The finance service as the platform runs it: schema, routes prefix, config, feature modules. */
export const financeService: ServiceDefinition<ServiceConfig<typeof financeConfigShape>> = {
  name: 'finance',
  title: 'Alliance finance API',
  description: 'Receivable certificates, financing, warehouse receipts and equipment leases.',
  schema: 'finance',
  restPrefix: 'finance/v1',
  configShape: financeConfigShape,
  migrationsDir: join(__dirname, '..', 'migrations'),
  graphql: 'subgraph',
  imports() {
    return [];
  },
};
