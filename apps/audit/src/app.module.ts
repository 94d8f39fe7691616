import { join } from 'node:path';
import type { ServiceDefinition } from '@alliance/shared/feature-platform';
import { type AuditConfig, auditControllers, AuditModule, auditResolvers } from './audit.module';
import { auditConfigShape } from './config';

/** The audit service as the platform runs it: schema, routes prefix, config, feature modules. */
export const auditService: ServiceDefinition<AuditConfig> = {
  name: 'audit',
  title: 'Alliance audit API',
  description: 'Read-only regulator audit: verification, look-through views, access log and evidence exports.',
  schema: 'audit',
  restPrefix: 'audit/v1',
  configShape: auditConfigShape,
  migrationsDir: join(__dirname, '..', 'migrations'),
  graphql: 'subgraph',
  surface: [...auditControllers, ...auditResolvers],
  imports(runtime) {
    return [AuditModule.forRoot(runtime)];
  },
};
