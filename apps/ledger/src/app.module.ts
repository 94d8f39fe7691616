import { join } from 'node:path';
import type { ServiceConfig, ServiceDefinition } from '@alliance/shared/feature-platform';
import { ledgerConfigShape } from './config';

/** A member's (or the regulator's observer) ledger node as the platform runs it. */
export const ledgerService: ServiceDefinition<ServiceConfig<typeof ledgerConfigShape>> = {
  name: 'ledger',
  title: 'Alliance ledger API',
  description: 'One member organization’s ledger node: ordering, blocks, world state, proofs and checkpoints.',
  schema: 'ledger',
  restPrefix: 'ledger/v1',
  configShape: ledgerConfigShape,
  migrationsDir: join(__dirname, '..', 'migrations'),
  graphql: 'subgraph',
  crossCheck(config) {
    const nodeId = config.LEDGER_NODE_ID;
    return nodeId !== undefined && !/^[a-z][a-z0-9-]{0,62}$/.test(nodeId)
      ? [`LEDGER_NODE_ID must be lower-case letters, digits and dashes, starting with a letter (got "${nodeId}")`]
      : [];
  },
  imports() {
    return [];
  },
};
