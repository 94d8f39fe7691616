import { join } from 'node:path';
import type { ServiceConfig, ServiceDefinition } from '@alliance/shared/feature-platform';
import { auditConfigShape } from './config';

/** The audit service as the platform runs it: schema, routes prefix, config, feature modules. */
export const auditService: ServiceDefinition<ServiceConfig<typeof auditConfigShape>> = {
  name: 'audit',
  title: 'Alliance audit API',
  description: 'Read-only regulator audit: verification, look-through views, access log and evidence exports.',
  schema: 'audit',
  restPrefix: 'audit/v1',
  configShape: auditConfigShape,
  migrationsDir: join(__dirname, '..', 'migrations'),
  graphql: 'subgraph',
  imports() {
    return [];
  },
};
