import { type FormattedExecutionResult, type GraphQLFormattedError, type GraphQLSchema, print } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { Logger } from 'pino';
import { AllianceError } from '@alliance/shared/util-errors';
import {
  CORRELATION_HEADER,
  ForwardedGraphQLErrors,
  type SubscriptionConnection,
  type SubscriptionExecutor,
  SubscriptionQueue,
  type SubscriptionRequest,
} from '@alliance/shared/feature-platform';
import { rootFieldOf, routeOf, type SubscriptionRoute, type SubscriptionRoutes, subscriptionRoutes } from './subscription-routing';

export interface SubscriptionRelayOptions {
  readonly logger: Logger;
  /** How long opening an upstream WebSocket (handshake and connection_ack) may take. */
  readonly connectTimeoutMs: number;
  /** Most results held for one slow client before its subscription fails with COMMON.SUBSCRIBER_TOO_SLOW. */
  readonly bufferLimit?: number;
}

/**
 * The gateway's subscriptions: Apollo's gateway cannot execute them, so each
 * is relayed over graphql-ws to the subgraph that owns its root field (read
 * from the supergraph on every composition). One upstream connection per
 * client connection and subgraph carries that client's correlation id and
 * `Authorization` as headers and its connection_init payload unchanged, so a
 * subgraph sees each client as if it had connected directly; it closes with
 * the client's connection.
 */
export class SubscriptionRelay implements SubscriptionExecutor {
  private routes: SubscriptionRoutes = new Map();
  private apiSchema: GraphQLSchema | undefined;
  private readonly upstreams = new WeakMap<SubscriptionConnection, Map<string, Client>>();

  constructor(private readonly options: SubscriptionRelayOptions) {}

  /** Called with every new supergraph the gateway composes. */
  updateSupergraph(supergraphSdl: string, apiSchema: GraphQLSchema): void {
    this.routes = subscriptionRoutes(supergraphSdl);
    this.apiSchema = apiSchema;
  }

  /** Validation uses the same API schema as the gateway's HTTP side. */
  schema(): GraphQLSchema | undefined {
    return this.apiSchema;
  }

  async subscribe(request: SubscriptionRequest): Promise<AsyncIterable<FormattedExecutionResult>> {
    const route = routeOf(this.routes, rootFieldOf(request.document, request.operationName));
    const client = this.upstreamFor(request.context.connection, route);
    const upstream: { unsubscribe?: () => void } = {};
    const queue = new SubscriptionQueue<FormattedExecutionResult>({ limit: this.options.bufferLimit ?? 1_000, onStop: () => upstream.unsubscribe?.() });
    upstream.unsubscribe = client.subscribe<Record<string, unknown>, Record<string, unknown>>(
      { query: print(request.document), operationName: request.operationName, variables: request.variables as Record<string, unknown> | undefined },
      {
        next: (result) => queue.push(result),
        error: (error) => queue.fail(upstreamFailure(error, route)),
        complete: () => queue.end(),
      },
    );
    return queue;
  }

  private upstreamFor(connection: SubscriptionConnection, route: SubscriptionRoute): Client {
    let clients = this.upstreams.get(connection);
    if (!clients) {
      const created = new Map<string, Client>();
      clients = created;
      this.upstreams.set(connection, created);
      connection.onClose(() => {
        for (const client of created.values()) void client.dispose();
        created.clear();
      });
    }
    const existing = clients.get(route.url);
    if (existing) return existing;
    const headers: Record<string, string> = { [CORRELATION_HEADER]: connection.correlationId, ...(connection.authorization ? { authorization: connection.authorization } : {}) };
    const client = createClient({
      url: route.url,
      webSocketImpl: webSocketWithHeaders(headers, this.options.connectTimeoutMs),
      connectionParams: { ...connection.connectionParams },
      lazy: true,
      lazyCloseTimeout: 0,
      // A lost upstream ends the client's subscriptions with GATEWAY.UPSTREAM_UNAVAILABLE; the client
      // resubscribes (ledgerBlockCertified with `from` misses nothing). Retrying here would hide the gap.
      retryAttempts: 0,
      connectionAckWaitTimeout: this.options.connectTimeoutMs,
      on: {
        closed: () => this.options.logger.debug({ correlationId: connection.correlationId, subgraph: route.subgraph }, 'upstream subscription connection closed'),
      },
    });
    clients.set(route.url, client);
    return client;
  }
}

/** The upstream's own GraphQL errors pass through; a lost or refused connection is GATEWAY.UPSTREAM_UNAVAILABLE. */
function upstreamFailure(error: unknown, route: SubscriptionRoute): Error {
  if (Array.isArray(error) && error.every((e: unknown) => typeof e === 'object' && e !== null && 'message' in e)) return new ForwardedGraphQLErrors(error as GraphQLFormattedError[]);
  const close = error as { code?: unknown; reason?: unknown; message?: unknown };
  const why = typeof close.code === 'number' ? `closed ${close.code}${close.reason ? ` ${String(close.reason)}` : ''}` : typeof close.message === 'string' && close.message ? close.message : 'connection failed';
  return new AllianceError('GATEWAY.UPSTREAM_UNAVAILABLE', 'unavailable', `the ${route.subgraph} service's subscription ended unexpectedly (${why}); subscribe again`, { cause: error });
}

/** What graphql-ws constructs: `new WebSocket(url, protocol)`; this one also sends the forwarded headers. */
function webSocketWithHeaders(headers: Readonly<Record<string, string>>, handshakeTimeout: number): new (address: string | URL, protocols?: string | string[]) => WebSocket {
  return class UpstreamWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { headers, handshakeTimeout });
    }
  };
}
