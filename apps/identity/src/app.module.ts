import { join } from 'node:path';
import type { ServiceDefinition } from '@alliance/shared/feature-platform';
import { identityConfigShape } from './config';
import { type IdentityConfig, IdentityModule } from './identity.module';

/** The identity service as the platform runs it: schema, routes prefix, config, feature modules. */
export const identityService: ServiceDefinition<IdentityConfig> = {
  name: 'identity',
  title: 'Alliance identity API',
  description: 'Consortium membership, organizations, agents, roles, devices, keys and sessions.',
  schema: 'identity',
  restPrefix: 'identity/v1',
  configShape: identityConfigShape,
  migrationsDir: join(__dirname, '..', 'migrations'),
  graphql: 'subgraph',
  imports(runtime) {
    return [IdentityModule.forRoot(runtime)];
  },
};
