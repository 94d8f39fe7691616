import { join } from 'node:path';
import type { ServiceConfig, ServiceDefinition } from '@alliance/shared/feature-platform';
import { provenanceConfigShape } from './config';

/** The provenance service as the platform runs it: schema, routes prefix, config, feature modules. */
export const provenanceService: ServiceDefinition<ServiceConfig<typeof provenanceConfigShape>> = {
  name: 'provenance',
  title: 'Alliance provenance API',
  description: 'EPCIS 2.0 capture and query, master data, lineage and custody.',
  schema: 'provenance',
  restPrefix: 'provenance/v1',
  configShape: provenanceConfigShape,
  migrationsDir: join(__dirname, '..', 'migrations'),
  graphql: 'subgraph',
  imports() {
    return [];
  },
};
