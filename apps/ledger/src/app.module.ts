import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceConfig, ServiceDefinition } from '@alliance/shared/feature-platform';
import { ledgerConfigShape } from './config';
import { ledgerControllers, LedgerModule, ledgerResolvers } from './ledger.module';

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
  surface: [...ledgerControllers, ...ledgerResolvers],
  crossCheck(config) {
    const problems: string[] = [];
    const nodeId = config.LEDGER_NODE_ID;
    if (nodeId !== undefined && !/^[a-z][a-z0-9-]{0,62}$/.test(nodeId)) problems.push(`LEDGER_NODE_ID must be lower-case letters, digits and dashes, starting with a letter (got "${nodeId}")`);
    if (!config.LEDGER_GENESIS_FILE) problems.push('LEDGER_GENESIS_FILE is required (the genesis transaction of the chain) (not set)');
    else if (!existsSync(config.LEDGER_GENESIS_FILE)) problems.push(`LEDGER_GENESIS_FILE must name a readable file (got "${config.LEDGER_GENESIS_FILE}")`);
    if (config.LEDGER_ROLE === 'member') {
      if (!config.LEDGER_NODE_KEY_FILE) problems.push('LEDGER_NODE_KEY_FILE is required for a member node (not set)');
      else if (!existsSync(config.LEDGER_NODE_KEY_FILE)) problems.push(`LEDGER_NODE_KEY_FILE must name a readable file (got "${config.LEDGER_NODE_KEY_FILE}")`);
    }
    if (config.ORDERING_DATABASE_URL !== undefined && !/^postgres(ql)?:\/\//.test(config.ORDERING_DATABASE_URL)) problems.push('ORDERING_DATABASE_URL must be a postgres:// URL');
    return problems;
  },
  imports(runtime) {
    return [LedgerModule.forRoot(runtime)];
  },
};
