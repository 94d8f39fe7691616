import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type DynamicModule, type INestApplication, Module, type ModuleMetadata, RequestMethod, type Type } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ApolloFederationDriver, type ApolloFederationDriverConfig } from '@nestjs/apollo';
import { GraphQLModule, GraphQLSchemaHost } from '@nestjs/graphql';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { Logger, LoggerModule } from 'nestjs-pino';
import type { z } from 'zod';
import { ConfigError, loadConfig, redactUrl, type Env } from '@alliance/shared/util-config';
import { createPool, pingPostgres, readMigrations, runMigrations, type Migration } from '@alliance/shared/data-access-postgres';
import { type BaseConfig, baseConfigShape, crossCheckBaseConfig, rateLimitExemptOf } from './base-config';
import { HealthController, type ReadinessCheck } from './health';
import { StatusController } from './status.controller';
import { createServiceLogger, requestLogger } from './logging';
import { bodyErrorHandler, formatGraphQLError, ProblemFilter } from './problem';
import type { ServiceRuntime } from './runtime';
import { PG_POOL, SERVICE_CONFIG, SERVICE_RUNTIME } from './tokens';
import { AccessGuard, JwksTokenVerifier, TOKEN_VERIFIER, type TokenVerifier } from './access';
import { graphqlLimitRules, graphqlParseOptions, withLimitCode } from './graphql-limits';
import { rateLimitMiddleware } from './rate-limit';
import { securityHeadersMiddleware } from './security-headers';
import { type AccessEntry, describeAccess } from './access-surface';
import { productVersion } from './version';
import { statusResolverFor } from './graphql-status';
import { OUTBOX, startMessaging, TRANSPORT, type MessagingHandle } from './messaging';
import { messagingMigrations } from '@alliance/shared/data-access-messaging';
import { answerClientErrors } from './http-client-errors';
import { jsonBodyParserOptions, unsupportedBodyHandler } from './request-body';
import { type GraphQLSubscriptionServer, schemaSubscriptions, serveGraphQLSubscriptions, type SubscriptionExecutor, subscriptionsOverWebSocketOnly, operationMustResolve } from './graphql-subscriptions';

export type ServiceName = 'identity' | 'ledger' | 'provenance' | 'finance' | 'audit' | 'gateway';

/** The validated configuration of a service whose own variables are `S`. */
export type ServiceConfig<S extends z.ZodRawShape> = BaseConfig & z.infer<z.ZodObject<S>>;

/** Everything the platform needs to run one service; `apps/<service>/src/app.module.ts` declares it. */
export interface ServiceDefinition<C extends BaseConfig = BaseConfig> {
  readonly name: ServiceName;
  readonly title: string;
  readonly description: string;
  /** PostgreSQL schema the service owns. */
  readonly schema: string;
  /** REST routes live under `/<restPrefix>`, e.g. `identity/v1`. */
  readonly restPrefix: string;
  /** Service-specific variables, added to the base shape. */
  readonly configShape: z.ZodRawShape;
  readonly migrationsDir: string;
  /**
   * `subgraph`: this service is an Apollo Federation subgraph at `/graphql` (queries over HTTP, its own
   * schema's subscriptions over WebSocket); `none`: it mounts its own GraphQL (the gateway).
   */
  readonly graphql: 'subgraph' | 'none';
  /** Who executes the subscriptions sent to this service's `/graphql` WebSocket, when not its own subgraph schema (the gateway relays them). */
  graphqlSubscriptions?(app: NestExpressApplication, runtime: ServiceRuntime<C>): SubscriptionExecutor;
  /** The service's feature modules, given the validated config and the runtime (method syntax: parameters stay bivariant so definitions with their own config fit). */
  imports(runtime: ServiceRuntime<C>): NonNullable<ModuleMetadata['imports']>;
  /** Extra readiness checks (besides PostgreSQL and messaging). */
  readinessChecks?(runtime: ServiceRuntime<C>): ReadinessCheck[];
  /** Extra cross-variable configuration rules; return problems as "NAME message" strings. */
  crossCheck?(config: C): string[];
  /** Express middleware that must see requests before body parsing (the gateway's proxy). */
  configureHttp?(app: NestExpressApplication, runtime: ServiceRuntime<C>): void;
  /** Routes served outside `restPrefix` (besides `/health`), e.g. the gateway's `/`. */
  readonly unprefixedRoutes?: readonly string[];
  /** Runs after Nest initialised, with the service's own OpenAPI document (the gateway serves the merged docs). */
  afterInit?(app: NestExpressApplication, runtime: ServiceRuntime<C>, openapi: OpenAPIObject): void | Promise<void>;
  /**
   * The controllers and resolvers the service's modules serve (the same arrays the modules list): with the
   * platform's own, what docs/authorization.md is generated from and the authorization matrix test walks.
   */
  readonly surface?: readonly Type<unknown>[];
  /** The verifier of bearer tokens the rate limit keys principals by, when the service has no TOKEN_VERIFIER provider (the gateway). */
  tokenVerifier?(runtime: ServiceRuntime<C>): TokenVerifier;
  /** Whether the service uses the outbox relay and messaging transport (default true). */
  readonly messaging?: boolean;
}

/** Every route and root field of the service, the platform's included, with who may call it. */
export function accessOf(definition: ServiceDefinition): AccessEntry[] {
  const platform: Type<unknown>[] = [HealthController, StatusController, ...(definition.graphql === 'subgraph' ? [statusResolverFor(definition.name)] : [])];
  return describeAccess([...platform, ...(definition.surface ?? [])], definition.restPrefix);
}

export interface RunningService {
  readonly name: ServiceName;
  readonly url: string;
  readonly port: number;
  readonly app: INestApplication;
  readonly runtime: ServiceRuntime;
  /** Graceful stop: readiness turns 503, in-flight requests and batches finish, then connections close. */
  close(): Promise<void>;
}

export function loadServiceConfig<C extends BaseConfig>(definition: ServiceDefinition<C>, env: Env): C {
  const service = `alliance-${definition.name}`;
  const config = loadConfig(service, { ...baseConfigShape, ...definition.configShape }, env) as unknown as C;
  const problems = [...crossCheckBaseConfig(config), ...(definition.crossCheck?.(config) ?? [])];
  if (problems.length > 0) throw new ConfigError(service, problems);
  return config;
}

export async function startService<C extends BaseConfig>(definition: ServiceDefinition<C>, env: Env = process.env): Promise<RunningService> {
  const config = loadServiceConfig(definition, env);
  const pool = createPool(config.DATABASE_URL, { applicationName: `alliance-${definition.name}`, max: config.DB_POOL_SIZE, schema: definition.schema });
  let messaging: MessagingHandle | undefined;
  try {
    await runMigrations(pool, definition.schema, serviceMigrations(definition)).catch((error: Error & { code?: string }) => {
      throw new Error(`cannot prepare PostgreSQL schema "${definition.schema}" at ${redactUrl(config.DATABASE_URL)}: ${error.message}`, { cause: error });
    });
    const runtime: ServiceRuntime<C> = {
      name: definition.name,
      version: productVersion(),
      startedAt: new Date(),
      config,
      pool,
      readinessChecks: [{ name: 'postgres', check: async () => ({ ok: await pingPostgres(pool) }) }],
      draining: false,
      logger: createServiceLogger(definition.name, config.ORG_ID, config.LOG_LEVEL),
    };
    if (definition.messaging !== false) {
      messaging = await startMessaging(definition.name, definition.schema, config, pool, runtime.logger);
      runtime.readinessChecks.push(messaging.readinessCheck);
    }
    runtime.readinessChecks.push(...(definition.readinessChecks?.(runtime) ?? []));
    const app = await createNestApp(definition, runtime, messaging);
    return await listen(definition, app, runtime, messaging);
  } catch (error) {
    await messaging?.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
    throw error;
  }
}

function serviceMigrations(definition: ServiceDefinition): Migration[] {
  return [...readMigrations(definition.migrationsDir), ...messagingMigrationsFor(definition)].sort((a, b) => a.version.localeCompare(b.version));
}

function messagingMigrationsFor(definition: ServiceDefinition): Migration[] {
  return definition.messaging === false ? [] : messagingMigrations();
}

async function createNestApp(definition: ServiceDefinition, runtime: ServiceRuntime, messaging: MessagingHandle | undefined): Promise<NestExpressApplication> {
  // pino-http is mounted by hand (below) so it covers every path; nestjs-pino reuses the same pino for Nest's own logs.
  const imports: NonNullable<ModuleMetadata['imports']> = [LoggerModule.forRoot({ pinoHttp: { logger: runtime.logger }, useExisting: true, forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }] })];
  const providers: NonNullable<ModuleMetadata['providers']> = [
    { provide: SERVICE_RUNTIME, useValue: runtime },
    { provide: SERVICE_CONFIG, useValue: runtime.config },
    { provide: PG_POOL, useValue: runtime.pool },
    ...(messaging ? messaging.providers : []),
    // One guard for every route and field (docs/authorization.md); tokens are verified with the identity service's JWKS.
    { provide: APP_GUARD, useClass: AccessGuard },
    ...(runtime.config.AUTH_JWKS_URL ? [{ provide: TOKEN_VERIFIER, useValue: new JwksTokenVerifier(runtime.config.AUTH_JWKS_URL) }] : []),
    { provide: RATE_LIMIT_VERIFIER, useFactory: (verifier?: TokenVerifier) => ({ verifier }), inject: [{ token: TOKEN_VERIFIER, optional: true }] },
  ];
  if (definition.graphql === 'subgraph') {
    imports.push(
      GraphQLModule.forRoot<ApolloFederationDriverConfig>({
        driver: ApolloFederationDriver,
        autoSchemaFile: { federation: 2 },
        path: '/graphql',
        // The gateway serves the landing page; subgraphs answer queries only.
        playground: false,
        introspection: true,
        includeStacktraceInErrorResponses: false,
        // No Apollo usage reporting leaves this network; inline traces are for it only.
        plugins: [ApolloServerPluginInlineTraceDisabled(), operationMustResolve, subscriptionsOverWebSocketOnly],
        validationRules: graphqlLimitRules(),
        parseOptions: graphqlParseOptions(),
        context: ({ req }: { req: unknown }) => ({ req }),
        formatError: (formatted, error) => formatGraphQLError(withLimitCode(formatted, error), error),
      }),
    );
    providers.push(statusResolverFor(definition.name));
  }
  imports.push(...definition.imports(runtime));

  @Module({ imports, providers, controllers: [HealthController, StatusController], exports: [SERVICE_RUNTIME, SERVICE_CONFIG, PG_POOL, ...(messaging ? [TRANSPORT, OUTBOX] : [])] })
  class PlatformRootModule {}
  Object.defineProperty(PlatformRootModule, 'name', { value: `${definition.name[0].toUpperCase()}${definition.name.slice(1)}Module` });
  const root: DynamicModule = { module: PlatformRootModule, global: true };

  const app = await NestFactory.create<NestExpressApplication>(root, { bufferLogs: true, bodyParser: false, abortOnError: false });
  app.useLogger(app.get(Logger));
  app.use(requestLogger(runtime.logger));
  app.disable('x-powered-by');
  // X-Forwarded-For is believed from loopback only (the gateway's proxy on the same host): req.ip is then the client's.
  app.set('trust proxy', 'loopback');
  app.use(securityHeadersMiddleware);
  // Before the gateway's proxy and body parsing: a limited client costs neither (docs/security.md).
  if (runtime.config.RATE_LIMIT_PER_SECOND > 0) {
    const own = definition.tokenVerifier?.(runtime);
    let resolved: { readonly verifier: TokenVerifier | undefined } | undefined;
    app.use(
      rateLimitMiddleware({
        ratePerSecond: runtime.config.RATE_LIMIT_PER_SECOND,
        burst: runtime.config.RATE_LIMIT_BURST,
        exempt: rateLimitExemptOf(runtime.config),
        verifier: () => own ?? (resolved ??= app.get<{ verifier: TokenVerifier | undefined }>(RATE_LIMIT_VERIFIER)).verifier,
      }),
    );
  }
  definition.configureHttp?.(app, runtime);
  app.useBodyParser('json', jsonBodyParserOptions(runtime.config.BODY_LIMIT_BYTES));
  app.use(bodyErrorHandler);
  app.use(unsupportedBodyHandler);
  app.useGlobalFilters(new ProblemFilter());
  app.setGlobalPrefix(definition.restPrefix, {
    exclude: [
      { path: 'health', method: RequestMethod.GET },
      { path: 'health/live', method: RequestMethod.GET },
      { path: 'health/ready', method: RequestMethod.GET },
      ...(definition.unprefixedRoutes ?? []).map((path) => ({ path, method: RequestMethod.ALL })),
    ],
  });
  return app;
}

/** The service's token verifier as the guard sees it (identity's own sign-in, the JWKS one, or none), for the rate limit. */
const RATE_LIMIT_VERIFIER = Symbol('alliance.rate-limit-verifier');

export function buildOpenApiDocument(definition: ServiceDefinition, app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle(definition.title)
    .setDescription(definition.description)
    .setVersion(productVersion())
    .addTag(definition.name)
    .build();
  return SwaggerModule.createDocument(app, config, { operationIdFactory: (controller, method) => `${definition.name}.${controller.replace(/Controller$/, '')}.${method}` });
}

/** How long an idle keep-alive connection stays open (a load balancer's 60 s idle timeout plus margin). */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

async function listen(definition: ServiceDefinition, app: NestExpressApplication, runtime: ServiceRuntime, messaging: MessagingHandle | undefined): Promise<RunningService> {
  let inFlight = 0;
  const idle: Array<() => void> = [];
  app.use((_req: unknown, res: { on(e: string, f: () => void): void }, next: () => void) => {
    inFlight++;
    res.on('close', () => {
      inFlight--;
      if (inFlight === 0) idle.splice(0).forEach((f) => f());
    });
    next();
  });
  // Documents and extra routes are registered before init, so they precede Nest's not-found handler.
  const document = buildOpenApiDocument(definition, app);
  const express = app.getHttpAdapter().getInstance() as { get(path: string, h: (req: unknown, res: { json(b: unknown): void }) => void): void };
  express.get('/openapi.json', (_req, res) => res.json(document));
  express.get(`/${definition.restPrefix}/openapi.json`, (_req, res) => res.json(document));
  // Who may call what (docs/authorization.md): the gateway reads it to check requests before it proxies them.
  const access = { service: definition.name, organizationId: runtime.config.ORG_ID, entries: accessOf(definition) };
  express.get(`/${definition.restPrefix}/access.json`, (_req, res) => res.json(access));
  await definition.afterInit?.(app, runtime, document);
  await app.init();
  const server = app.getHttpServer() as Server;
  // Idle keep-alive connections stay open well past Node's 5 s default: a client that reuses one (the gateway's
  // subgraph fetcher keeps its sockets without an idle limit) would otherwise, now and then, send its
  // request just as the server closes the socket and get "socket hang up". Headers must time out after that.
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
  answerClientErrors(server);
  const subscriptions = serveSubscriptions(definition, app, runtime, server);

  const host = runtime.config.HOST ?? '127.0.0.1';
  await app.listen(runtime.config.PORT, host);
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  runtime.logger.info(`${definition.name} ready at ${url} (schema "${definition.schema}", messaging ${runtime.config.MESSAGING})`);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      runtime.draining = true;
      // Subscribers reconnect elsewhere; WebSockets are not requests the drain below waits for.
      await subscriptions?.close();
      server.close();
      server.closeIdleConnections();
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, runtime.config.SHUTDOWN_TIMEOUT_MS);
          idle.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      server.closeAllConnections();
      await app.close();
      await messaging?.close();
      await runtime.pool.end();
    })());
  return { name: definition.name, url, port, app, runtime, close };
}

/** GraphQL subscriptions over WebSocket on the service's own `/graphql` (docs/architecture.md, Gateway). */
function serveSubscriptions(definition: ServiceDefinition, app: NestExpressApplication, runtime: ServiceRuntime, server: Server): GraphQLSubscriptionServer | undefined {
  const executor = definition.graphqlSubscriptions?.(app, runtime) ?? (definition.graphql === 'subgraph' ? schemaSubscriptions(() => app.get(GraphQLSchemaHost).schema) : undefined);
  if (!executor) return undefined;
  return serveGraphQLSubscriptions(server, executor, { logger: runtime.logger, isDraining: () => runtime.draining, maxPayloadBytes: runtime.config.BODY_LIMIT_BYTES });
}

/**
 * Entry point of `apps/<service>/src/main.ts`: one clear line and exit code 78
 * on bad configuration, 1 on failure to start; SIGTERM/SIGINT stop gracefully.
 */
export function runServiceMain<C extends BaseConfig>(definition: ServiceDefinition<C>): void {
  startService(definition).then(
    (service) => {
      let signals = 0;
      const stop = (signal: string) => {
        if (++signals > 1) process.exit(130); // a second Ctrl-C means now
        process.stderr.write(`${JSON.stringify({ level: 30, time: new Date().toISOString(), service: definition.name, msg: `${signal} received, shutting down` })}\n`);
        service.close().then(
          () => process.exit(0),
          (error: Error) => {
            process.stderr.write(`alliance-${definition.name}: shutdown failed: ${error.message}\n`);
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    },
    (error: unknown) => {
      if (error instanceof ConfigError) {
        process.stderr.write(`${error.message}\n`);
        process.exit(78);
      }
      process.stderr.write(`alliance-${definition.name}: failed to start: ${(error as Error).message ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
