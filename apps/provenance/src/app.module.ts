import { join } from 'node:path';
import type { ServiceDefinition } from '@alliance/shared/feature-platform';
import { provenanceConfigShape } from './config';
import { type ProvenanceConfig, provenanceControllers, ProvenanceModule, provenanceResolvers } from './provenance.module';

/** The provenance service as the platform runs it: schema, routes prefix, config, feature modules. */
export const provenanceService: ServiceDefinition<ProvenanceConfig> = {
  name: 'provenance',
  title: 'Alliance provenance API',
  description: 'EPCIS 2.0 capture and query (GS1 REST binding), lineage trace and recall, custody and ownership transfer.',
  schema: 'provenance',
  restPrefix: 'provenance/v1',
  configShape: provenanceConfigShape,
  migrationsDir: join(__dirname, '..', 'migrations'),
  graphql: 'subgraph',
  surface: [...provenanceControllers, ...provenanceResolvers],
  imports(runtime) {
    return [ProvenanceModule.forRoot(runtime)];
  },
};
