import { join } from 'node:path';
import type { ServiceConfig, ServiceDefinition } from '@alliance/shared/feature-platform';
import { identityConfigShape } from './config';

/** The identity service as the platform runs it: schema, routes prefix, config, feature modules. */
export const identityService: ServiceDefinition<ServiceConfig<typeof identityConfigShape>> = {
  name: 'identity',
  title: 'Alliance identity API',
  description: 'Consortium membership, organizations, agents, roles, devices, keys and sessions.',
  schema: 'identity',
  restPrefix: 'identity/v1',
  configShape: identityConfigShape,
  migrationsDir: join(__dirname, '..', 'migrations'),
  graphql: 'subgraph',
  imports() {
    return [];
  },
};
