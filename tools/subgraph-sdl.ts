// Prints the SDL one service's subgraph publishes — what the gateway's IntrospectAndCompose reads with
// `{ _service { sdl } }` — built from the service's resolvers exactly as the platform builds it (code first,
// ApolloFederationDriver, autoSchemaFile { federation: 2 }), their dependencies stubbed: building the schema
// calls none. One service per process, as in production — or `all`: every service in one process, as
// `npm start` runs them (Nest keeps GraphQL types process-wide, so their types mix). Used by tools/supergraph.spec.ts:
//   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/subgraph-sdl.ts <service>
import 'reflect-metadata';
import { Module, type Provider, type Type } from '@nestjs/common';
import { PATH_METADATA, SELF_DECLARED_DEPS_METADATA } from '@nestjs/common/constants';
import { NestFactory } from '@nestjs/core';
import { ApolloFederationDriver, type ApolloFederationDriverConfig } from '@nestjs/apollo';
import { GraphQLModule, GraphQLSchemaHost } from '@nestjs/graphql';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { graphql } from 'graphql';
import { type ServiceDefinition, statusResolverFor } from '@alliance/shared/feature-platform';

const DEFINITIONS: Record<string, () => ServiceDefinition> = {
  identity: () => require('../apps/identity/src/app.module').identityService,
  ledger: () => require('../apps/ledger/src/app.module').ledgerService,
  provenance: () => require('../apps/provenance/src/app.module').provenanceService,
  finance: () => require('../apps/finance/src/app.module').financeService,
  audit: () => require('../apps/audit/src/app.module').auditService,
};

export async function subgraphSdl(definition: ServiceDefinition): Promise<string> {
  const resolvers = [statusResolverFor(definition.name), ...(definition.surface ?? []).filter((cls) => !Reflect.hasMetadata(PATH_METADATA, cls))] as Type<unknown>[];
  const tokens = new Set<unknown>();
  for (const cls of resolvers) for (const dep of (Reflect.getMetadata(SELF_DECLARED_DEPS_METADATA, cls) as Array<{ param: unknown }> | undefined) ?? []) tokens.add(dep.param);
  const stubs: Provider[] = [...tokens].map((token) => ({ provide: token as string | symbol, useValue: {} }));

  @Module({
    imports: [GraphQLModule.forRoot<ApolloFederationDriverConfig>({ driver: ApolloFederationDriver, autoSchemaFile: { federation: 2 }, path: '/graphql', playground: false, plugins: [ApolloServerPluginInlineTraceDisabled()] })],
    providers: [...stubs, ...resolvers],
  })
  class SubgraphModule {}

  const app = await NestFactory.create(SubgraphModule, { logger: false, abortOnError: false });
  try {
    await app.init();
    const { schema } = app.get(GraphQLSchemaHost);
    const result = await graphql({ schema, source: '{ _service { sdl } }', contextValue: {} });
    if (result.errors) throw new Error(`${definition.name}: ${JSON.stringify(result.errors)}`);
    return (result.data as { _service: { sdl: string } })._service.sdl;
  } finally {
    await app.close();
  }
}

if (require.main === module && process.argv[2] === 'all') {
  // Every service in this one process, one after the other, as `npm start` builds them: types leak between them.
  (async () => {
    const out: Record<string, string> = {};
    for (const [name, definition] of Object.entries(DEFINITIONS)) out[name] = await subgraphSdl(definition());
    process.stdout.write(JSON.stringify(out));
  })().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
} else if (require.main === module) {
  const name = process.argv[2] ?? '';
  const definition = DEFINITIONS[name];
  if (!definition) {
    process.stderr.write(`usage: subgraph-sdl.ts <${Object.keys(DEFINITIONS).join('|')}>\n`);
    process.exit(2);
  }
  subgraphSdl(definition()).then(
    (sdl) => process.stdout.write(sdl),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
