import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FormattedExecutionResult,
  getOperationAST,
  GraphQLError,
  type GraphQLFormattedError,
  type GraphQLSchema,
  parse,
  subscribe,
  validate,
} from 'graphql';
import { CloseCode, type ExecutionResult as WsExecutionResult, handleProtocols, makeServer } from 'graphql-ws';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import type { Logger } from 'pino';
import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerErrorCode } from '@apollo/server/errors';
import { AllianceError } from '@alliance/shared/util-errors';
import { correlationIdFor, headerValue } from './logging';
import { formatGraphQLError, toAllianceError, toGraphQLError, toGraphQLRequestError } from './problem';

/** Where every service serves GraphQL: queries and mutations over HTTP POST, subscriptions over WebSocket. */
export const GRAPHQL_PATH = '/graphql';

/** One client's WebSocket connection, as the code that executes its subscriptions sees it. */
export interface SubscriptionConnection {
  /** The client's `X-Correlation-Id` on the upgrade request when well-formed, else a new UUID; echoed in the 101 response. */
  readonly correlationId: string;
  /** `Authorization` of the upgrade request, else `authorization` in the connection_init payload (browsers cannot set headers). */
  readonly authorization: string | undefined;
  /** The client's connection_init payload. */
  readonly connectionParams: Readonly<Record<string, unknown>>;
  /** Registers work for when the connection closes (a relay closes its upstream connections). */
  onClose(cleanup: () => void): void;
}

/** The GraphQL context of a subscription: `req` (with `id`, the correlation id) like over HTTP, so filters and resolvers see one shape. */
export interface SubscriptionContext {
  readonly req: IncomingMessage & { id: string };
  readonly connection: SubscriptionConnection;
}

/** A parsed and validated subscription operation. */
export interface SubscriptionRequest {
  readonly schema: GraphQLSchema;
  readonly document: DocumentNode;
  readonly operationName: string | undefined;
  readonly variables: Readonly<Record<string, unknown>> | undefined;
  readonly context: SubscriptionContext;
}

/** Results as executed here (GraphQLError instances) or as relayed from an upstream (already formatted). */
export type SubscriptionResult = ExecutionResult | FormattedExecutionResult;

/** How a service runs the subscriptions it is sent; the platform does the protocol, parsing, validation and error mapping. */
export interface SubscriptionExecutor {
  /** The schema operations are validated against; undefined while it is not known yet (the gateway before its first composition). */
  schema(): GraphQLSchema | undefined;
  subscribe(request: SubscriptionRequest): Promise<AsyncIterable<SubscriptionResult> | SubscriptionResult>;
}

/** Thrown by a relay (the gateway) to pass an upstream's GraphQL errors to the client unchanged. */
export class ForwardedGraphQLErrors extends Error {
  override readonly name = 'ForwardedGraphQLErrors';
  constructor(readonly errors: readonly GraphQLFormattedError[]) {
    super(errors.map((e) => e.message).join('; '));
  }
}

/** Apollo Server plugin: a subscription sent over HTTP is the caller's mistake (400 COMMON.WEBSOCKET_REQUIRED), not an internal error. */
export const subscriptionsOverWebSocketOnly: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operation }) {
        if (operation?.operation !== 'subscription') return;
        throw toGraphQLRequestError(new AllianceError('COMMON.WEBSOCKET_REQUIRED', 'invalid', `subscriptions are served over WebSocket (graphql-ws protocol) at ${GRAPHQL_PATH}, not over HTTP`));
      },
    };
  },
};

/** The document holds no operation `operationName` names (or several and no name): Apollo's own code for it, over HTTP and WebSocket alike. */
export function unresolvedOperation(operationName: string | null | undefined): GraphQLError {
  const message = operationName ? `unknown operation named "${operationName}"` : 'the document must hold one operation, or name one with operationName';
  return new GraphQLError(message, { extensions: { code: ApolloServerErrorCode.OPERATION_RESOLUTION_FAILURE, status: 400, http: { status: 400 } } });
}

/** The operation's type has no root type in the schema (graphql-js 17's KnownOperationTypesRule; 16 finds it only when executing). */
export function unsupportedOperationType(type: string): GraphQLError {
  return new GraphQLError(`the ${type} operation is not supported by the schema`, { extensions: { code: ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED, status: 400, http: { status: 400 } } });
}

/**
 * Apollo Server plugin for a server whose executor throws when no operation
 * resolves or its root type is absent (Apollo's gateway answers both as
 * internal errors, HTTP 500): refused first as the caller's mistake, 400
 * OPERATION_RESOLUTION_FAILURE or GRAPHQL_VALIDATION_FAILED.
 */
export const operationMustResolve: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operation, request, schema }) {
        if (!operation) throw unresolvedOperation(request.operationName);
        if (!schema.getRootType(operation.operation)) throw unsupportedOperationType(operation.operation);
      },
    };
  },
};

/** A subgraph runs subscriptions against its own executable schema. */
export function schemaSubscriptions(schema: () => GraphQLSchema | undefined): SubscriptionExecutor {
  return {
    schema,
    subscribe: (request) =>
      subscribe({ schema: request.schema, document: request.document, operationName: request.operationName, variableValues: request.variables, contextValue: request.context }),
  };
}

export interface GraphQLSubscriptionServerOptions {
  readonly logger: Logger;
  /** New connections are refused (503) while the service drains. */
  isDraining(): boolean;
  /** WebSocket ping interval; a client that misses a pong for this long is dropped. */
  readonly keepAliveMs?: number;
  /** Largest accepted WebSocket message. */
  readonly maxPayloadBytes?: number;
}

export interface GraphQLSubscriptionServer {
  readonly connections: number;
  /** Closes every connection with 1001 (going away) so clients reconnect elsewhere, then stops. */
  close(): Promise<void>;
}

interface ConnectionExtra {
  readonly request: IncomingMessage & { id: string };
  readonly socket: WebSocket;
  readonly cleanups: Array<() => void>;
  connection?: SubscriptionConnection;
}

/**
 * Serves GraphQL subscriptions on `server` at `/graphql` over the graphql-ws
 * protocol (subprotocol `graphql-transport-ws`). Only subscription operations
 * are accepted here; queries and mutations go over HTTP. Errors carry the
 * same `extensions.code` as over HTTP.
 */
export function serveGraphQLSubscriptions(server: Server, executor: SubscriptionExecutor, options: GraphQLSubscriptionServerOptions): GraphQLSubscriptionServer {
  const log = options.logger;
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes ?? 1_048_576, handleProtocols: (protocols) => handleProtocols(protocols) || false });
  wss.on('headers', (headers: string[], request: IncomingMessage & { id?: string }) => {
    if (request.id) headers.push(`X-Correlation-Id: ${request.id}`);
  });

  const protocol = makeServer<Record<string, unknown> | undefined, ConnectionExtra>({
    connectionInitWaitTimeout: 10_000,
    onConnect: (ctx) => {
      log.debug({ correlationId: ctx.extra.request.id }, 'graphql-ws connection acknowledged');
    },
    onSubscribe: (ctx, _id, payload) => {
      const schema = executor.schema();
      if (!schema) return [toGraphQLError(new AllianceError('COMMON.UNAVAILABLE', 'unavailable', 'the GraphQL schema is not ready yet; retry shortly'), ctx.extra.request.id)];
      let document: DocumentNode;
      try {
        document = parse(payload.query);
      } catch (error) {
        return [withCode(error, ApolloServerErrorCode.GRAPHQL_PARSE_FAILED)];
      }
      const operation = getOperationAST(document, payload.operationName);
      if (!operation) return [unresolvedOperation(payload.operationName)];
      if (operation.operation !== 'subscription') {
        return [toGraphQLError(new AllianceError('COMMON.SUBSCRIPTION_REQUIRED', 'invalid', `the WebSocket at ${GRAPHQL_PATH} carries subscriptions; send ${operation.operation} operations with HTTP POST ${GRAPHQL_PATH}`), ctx.extra.request.id)];
      }
      const errors = validate(schema, document);
      if (errors.length > 0) return errors.map((e) => withCode(e, ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED));
      const context: SubscriptionContext = { req: ctx.extra.request, connection: connectionOf(ctx.extra, ctx.connectionParams) };
      return { schema, document, operationName: payload.operationName ?? undefined, variableValues: payload.variables ?? undefined, contextValue: context };
    },
    subscribe: (args: ExecutionArgs) => run(executor, args, log),
    onNext: (ctx, _id, _payload, _args, result) => {
      if (!result.errors) return undefined;
      return { ...(result as FormattedExecutionResult), errors: result.errors.map((e: GraphQLError | GraphQLFormattedError) => formatted(e, ctx.extra.request.id)) };
    },
    onError: (ctx, _id, _payload, errors) =>
      errors.flatMap((e) => (e.originalError instanceof ForwardedGraphQLErrors ? e.originalError.errors : [formatted(e, ctx.extra.request.id)])),
  });

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (pathOf(request.url) !== GRAPHQL_PATH) return refuse(socket, 404, 'Not Found');
    if (options.isDraining()) return refuse(socket, 503, 'Service Unavailable');
    const req = Object.assign(request, { id: correlationIdFor(request.headers) });
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, req));
  });

  const keepAliveMs = options.keepAliveMs ?? 12_000;
  function accept(socket: WebSocket, request: IncomingMessage & { id: string }): void {
    const extra: ConnectionExtra = { request, socket, cleanups: [] };
    let alive = true;
    socket.on('pong', () => (alive = true));
    const ping = setInterval(() => {
      if (!alive) return socket.terminate();
      alive = false;
      socket.ping();
    }, keepAliveMs);
    const closed = protocol.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            // A socket that closes mid-send is no error of the subscription: its close handler cleans up.
            socket.send(data, (error) => (error && socket.readyState === socket.OPEN ? reject(error) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (data: RawData) => {
            handle(String(data)).catch((error: unknown) => {
              log.error({ err: error, correlationId: request.id }, 'graphql-ws message handling failed');
              socket.close(CloseCode.InternalServerError, 'internal error');
            });
          }),
      },
      extra,
    );
    socket.on('error', (error) => log.warn({ err: error, correlationId: request.id }, 'graphql-ws socket error'));
    socket.once('close', (code, reason) => {
      clearInterval(ping);
      for (const cleanup of extra.cleanups.splice(0)) {
        try {
          cleanup();
        } catch (error) {
          log.warn({ err: error, correlationId: request.id }, 'graphql-ws connection cleanup failed');
        }
      }
      closed(code, reason.toString()).catch((error: unknown) => log.warn({ err: error, correlationId: request.id }, 'graphql-ws close handling failed'));
    });
  }

  return {
    get connections() {
      return wss.clients.size;
    },
    async close() {
      const sockets = [...wss.clients];
      await Promise.all(
        sockets.map(
          (socket) =>
            new Promise<void>((resolve) => {
              if (socket.readyState === socket.CLOSED) return resolve();
              const timer = setTimeout(() => {
                socket.terminate();
                resolve();
              }, 2_000);
              socket.once('close', () => {
                clearTimeout(timer);
                resolve();
              });
              socket.close(1001, 'going away');
            }),
        ),
      );
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

function connectionOf(extra: ConnectionExtra, params: Readonly<Record<string, unknown>> | undefined): SubscriptionConnection {
  if (extra.connection) return extra.connection;
  const connectionParams = params ?? {};
  const fromParams = connectionParams.authorization ?? connectionParams.Authorization;
  extra.connection = {
    correlationId: extra.request.id,
    authorization: headerValue(extra.request.headers.authorization) ?? (typeof fromParams === 'string' ? fromParams : undefined),
    connectionParams,
    onClose: (cleanup) => {
      if (extra.socket.readyState === extra.socket.CLOSED) cleanup();
      else extra.cleanups.push(cleanup);
    },
  };
  return extra.connection;
}

/**
 * Runs the executor; a failure to start (no route, upstream down) becomes a
 * stream that fails at once, so the client gets an `error` message with the
 * error's code instead of losing the whole connection.
 */
async function run(executor: SubscriptionExecutor, args: ExecutionArgs, log: Logger): Promise<WsExecutionResult | AsyncIterable<WsExecutionResult>> {
  const context = args.contextValue as SubscriptionContext;
  let result: AsyncIterable<SubscriptionResult> | SubscriptionResult;
  try {
    result = await executor.subscribe({ schema: args.schema, document: args.document, operationName: args.operationName ?? undefined, variables: args.variableValues ?? undefined, context });
  } catch (error) {
    if (toAllianceError(error).kind === 'internal') log.error({ err: error, correlationId: context.req.id }, 'subscription failed to start');
    result = failingStream(error);
  }
  // Relayed results are already formatted; onNext formats both kinds before they are sent.
  return result as WsExecutionResult | AsyncIterable<WsExecutionResult>;
}

function failingStream(error: unknown): AsyncIterable<SubscriptionResult> {
  return {
    [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }),
  };
}

// Duck-typed: graphql-ws may hold another copy of graphql (CommonJS next to ESM), whose GraphQLError is another class.
function formatted(error: GraphQLError | GraphQLFormattedError, correlationId: string): GraphQLFormattedError {
  return 'toJSON' in error && typeof error.toJSON === 'function' ? formatGraphQLError(error.toJSON(), error, correlationId) : formatGraphQLError(error, undefined, correlationId);
}

function withCode(error: unknown, code: string): GraphQLError {
  if (!(error instanceof GraphQLError)) return new GraphQLError(String((error as Error).message ?? error), { extensions: { code } });
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, extensions: { ...error.extensions, code } });
}

function pathOf(url: string | undefined): string {
  const path = (url ?? '/').split('?')[0];
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
