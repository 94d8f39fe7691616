import { join } from 'node:path';
import type { ServiceDefinition } from '@alliance/shared/feature-platform';
import { identityConfigShape } from './config';
import { type IdentityConfig, identityControllers, IdentityModule, identityResolvers } from './identity.module';

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
  surface: [...identityControllers, ...identityResolvers],
  crossCheck(config) {
    return config.IDENTITY_ACCESS_TOKEN_TTL_SECONDS > 60 ? [`IDENTITY_ACCESS_TOKEN_TTL_SECONDS must be at most 60: a revoked key's tokens must stop within a minute (got ${config.IDENTITY_ACCESS_TOKEN_TTL_SECONDS})`] : [];
  },
  imports(runtime) {
    return [IdentityModule.forRoot(runtime)];
  },
};
