import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { RemoteGraphQLDataSource } from '@apollo/gateway';
import { Controller, Get, Inject, Module, type DynamicModule } from '@nestjs/common';
import { ApolloGatewayDriver, type ApolloGatewayDriverConfig } from '@nestjs/apollo';
import { GraphQLModule } from '@nestjs/graphql';
import { ApiExcludeController, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AccessErrors, authenticate, graphqlLimitRules, graphqlParseOptions, JwksTokenVerifier, Public, withLimitCode, type ServiceDefinition, type ServiceRuntime, operationMustResolve, subscriptionsOverWebSocketOnly, toGraphQLRequestError, type TokenVerifier } from '@alliance/shared/feature-platform';
import type { ApolloServerPlugin } from '@apollo/server';
import { isReadOnly } from '@alliance/shared/util-auth';
import { isAllianceError } from '@alliance/shared/util-errors';
import { GatewayAccess } from './access-check';
import { gatewayConfigShape } from './config';
import { installRestProxy } from './proxy';
import { WaitingIntrospectAndCompose } from './supergraph';
import { fetchJson, type GatewayConfig, upstreamsOf } from './upstreams';
import { mergeOpenApi, type OpenApiDocument } from './openapi-merge';
import { SubscriptionRelay } from './subscription-relay';
import { dashboardMiddleware, defaultDashboardDir } from './dashboard';

/** The gateway: one base URL for REST (proxied by prefix), GraphQL (federated) and the docs. */
export const gatewayService: ServiceDefinition<GatewayConfig> = {
  name: 'gateway',
  title: 'Alliance API',
  description:
    'One base URL for the Alliance consortium chain: REST under /identity/v1, /ledger/v1, /provenance/v1, /finance/v1 and /audit/v1; GraphQL at /graphql. Errors are application/problem+json with a stable `code`.',
  schema: 'gateway',
  restPrefix: 'gateway/v1',
  configShape: gatewayConfigShape,
  migrationsDir: join(__dirname, '..', 'migrations'),
  graphql: 'none',
  unprefixedRoutes: ['/'],
  // A getter: RootController is declared below.
  get surface() {
    return [RootController];
  },
  // The rate limit keys signed-in clients by their verified principal, with the same keys the gateway checks requests with.
  tokenVerifier: (runtime) => verifierOf(runtime),
  afterInit(app, runtime, openapi) {
    installMergedDocs(app, runtime, openapi);
  },
  configureHttp(app: NestExpressApplication, runtime: ServiceRuntime<GatewayConfig>) {
    // The gateway checks requests itself before proxying (docs/authorization.md); the services check again.
    const access = new GatewayAccess(upstreamsOf(runtime.config), verifierOf(runtime));
    access.install(app);
    access.start();
    installRestProxy(app, upstreamsOf(runtime.config), runtime.config.GATEWAY_PROXY_TIMEOUT_MS);
    // The web dashboard at `/` (docs/dashboard.md); a client asking for JSON only still gets the links there.
    const dashboard = defaultDashboardDir();
    if (dashboard) app.use(dashboardMiddleware(dashboard));
    else runtime.logger.warn('no built dashboard (dist/apps/dashboard): `/` answers the JSON links only; `node tools/build.js` builds it');
  },
  readinessChecks(runtime) {
    // The gateway is ready when every upstream is: a dashboard behind it sees one answer.
    return upstreamsOf(runtime.config).map((u) => ({
      name: u.name,
      check: async () => {
        try {
          const { status, body } = await fetchJson(`${u.url}/health/ready`, 2_000);
          const failing = Object.entries((body as { checks?: Record<string, { status: string }> }).checks ?? {})
            .filter(([, c]) => c.status !== 'up')
            .map(([n]) => n);
          return { ok: status === 200, detail: status === 200 ? undefined : `not ready${failing.length ? `: ${failing.join(', ')} down` : ` (HTTP ${status})`}` };
        } catch (error) {
          return { ok: false, detail: `unreachable at ${u.url}: ${(error as Error).message}` };
        }
      },
    }));
  },
  imports(runtime) {
    const relay = new SubscriptionRelay({ logger: runtime.logger.child({ component: 'subscription-relay' }), connectTimeoutMs: runtime.config.GATEWAY_PROXY_TIMEOUT_MS });
    return [graphqlGateway(runtime, relay), DocsModule, { module: SubscriptionRelayModule, providers: [{ provide: SubscriptionRelay, useValue: relay }] }];
  },
  // Apollo's gateway executes queries and mutations; subscriptions are relayed to the subgraph that owns them.
  graphqlSubscriptions(app) {
    return app.get(SubscriptionRelay);
  },
};

@Module({})
class SubscriptionRelayModule {}

const verifiers = new WeakMap<object, TokenVerifier>();
/** One verifier per gateway: the identity service's keys, for REST checks and GraphQL mutations alike. */
function verifierOf(runtime: ServiceRuntime<GatewayConfig>): TokenVerifier {
  let verifier = verifiers.get(runtime);
  if (!verifier) {
    verifier = new JwksTokenVerifier(`${runtime.config.IDENTITY_URL.replace(/\/+$/, '')}/identity/v1/.well-known/jwks.json`);
    verifiers.set(runtime, verifier);
  }
  return verifier;
}

/** At the gateway every GraphQL mutation needs a signed-in principal that may write: never a regulator's. */
function mutationsNeedAWriter(verifier: TokenVerifier): ApolloServerPlugin<{ req?: IncomingMessage }> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, contextValue }) {
          if (operation?.operation !== 'mutation') return;
          try {
            const principal = await authenticate(contextValue.req?.headers.authorization, verifier);
            if (isReadOnly(principal)) throw AccessErrors.readOnly();
          } catch (error) {
            throw isAllianceError(error) ? toGraphQLRequestError(error) : error;
          }
        },
      };
    },
  };
}

function graphqlGateway(runtime: ServiceRuntime<GatewayConfig>, relay: SubscriptionRelay): DynamicModule {
  return GraphQLModule.forRoot<ApolloGatewayDriverConfig>({
    driver: ApolloGatewayDriver,
    server: {
      path: '/graphql',
      introspection: true,
      csrfPrevention: true,
      includeStacktraceInErrorResponses: false,
      plugins: [operationMustResolve, subscriptionsOverWebSocketOnly, mutationsNeedAWriter(verifierOf(runtime))],
      // The same bounds as every subgraph's (docs/security.md), before a query is planned.
      validationRules: graphqlLimitRules(),
      parseOptions: graphqlParseOptions(),
      formatError: (formatted, error) => withLimitCode(formatted, error),
      context: ({ req }: { req: IncomingMessage }) => ({ req }),
    },
    gateway: {
      // Each subgraph checks the caller itself (docs/authorization.md): the gateway passes the bearer token on.
      buildService: ({ url }) =>
        new RemoteGraphQLDataSource<{ req?: IncomingMessage }>({
          url,
          willSendRequest({ request, context }) {
            const authorization = context.req?.headers.authorization;
            if (authorization) request.http?.headers.set('authorization', authorization);
          },
        }),
      supergraphSdl: new WaitingIntrospectAndCompose(upstreamsOf(runtime.config), runtime.config.GATEWAY_UPSTREAM_WAIT_MS, 15_000, (m) =>
        process.stderr.write(`${JSON.stringify({ level: 30, time: new Date().toISOString(), service: 'gateway', msg: m })}\n`),
      ),
      // Every composition (the first and each change) also re-routes subscriptions.
      experimental_didUpdateSupergraph: (composition) => {
        if ('supergraphSdl' in composition) relay.updateSupergraph(composition.supergraphSdl, composition.schema);
      },
    },
  });
}

@ApiExcludeController()
@Public('the links to the APIs, no data')
@Controller()
class RootController {
  constructor(@Inject('ALLIANCE_LINKS') private readonly links: Record<string, string>) {}

  @Get()
  index(): Record<string, string> {
    return this.links;
  }
}

@Module({
  controllers: [RootController],
  providers: [
    {
      provide: 'ALLIANCE_LINKS',
      useValue: {
        name: 'Alliance',
        graphql: '/graphql',
        docs: '/docs',
        openapi: '/docs-json',
        health: '/health',
        identity: '/identity/v1',
        ledger: '/ledger/v1',
        provenance: '/provenance/v1',
        finance: '/finance/v1',
        audit: '/audit/v1',
      },
    },
  ],
})
class DocsModule {}

/** Serves the merged OpenAPI (`/docs-json`) and its UI (`/docs`), refreshed from the services every 10 s. */
export function installMergedDocs(app: NestExpressApplication, runtime: ServiceRuntime<GatewayConfig>, own: OpenAPIObject): void {
  let merged = mergeOpenApi(own as unknown as OpenApiDocument, []);
  const refresh = async () => {
    const documents = await Promise.all(
      upstreamsOf(runtime.config).map(async (u) => {
        try {
          const { status, body } = await fetchJson(`${u.url}/openapi.json`, 3_000);
          return { name: u.name, document: status === 200 ? (body as OpenApiDocument) : undefined };
        } catch {
          return { name: u.name, document: undefined };
        }
      }),
    );
    merged = mergeOpenApi(own as unknown as OpenApiDocument, documents);
  };
  void refresh();
  setInterval(() => void refresh(), 10_000).unref();
  SwaggerModule.setup('docs', app, own, {
    jsonDocumentUrl: 'docs-json',
    yamlDocumentUrl: 'docs-yaml',
    customSiteTitle: 'Alliance API',
    patchDocumentOnRequest: () => merged as unknown as OpenAPIObject,
  });
}
