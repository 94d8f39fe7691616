import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSchema, type GraphQLError, type GraphQLSchema } from 'graphql';
import { type Client, createClient, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import pino from 'pino';
import { AllianceError } from '@alliance/shared/util-errors';
import { type GraphQLSubscriptionServer, schemaSubscriptions, serveGraphQLSubscriptions, SubscriptionQueue, type SubscriptionContext } from '@alliance/shared/feature-platform';
import { SubscriptionRelay } from './subscription-relay';

// The relay between two real WebSocket servers on loopback: a subgraph served by the
// platform, and the gateway's relay in front of it, driven by a graphql-ws client.
const sdl = `
  type Query { ok: Boolean }
  type Subscription {
    ticks(count: Int!): Int!
    whoAmI: String!
    refused: Int!
    forever: Int!
    notRouted: Int!
  }
`;
const logger = pino({ level: 'silent' });
const servers: Server[] = [];
const websockets: GraphQLSubscriptionServer[] = [];
const clients: Client[] = [];
let upstreamPort = 0;
let gatewayUrl = '';
let foreverStopped = 0;
let foreverQueue: SubscriptionQueue<{ forever: number }> | undefined;

function subgraphSchema(): GraphQLSchema {
  const schema = buildSchema(sdl);
  const fields = schema.getSubscriptionType()!.getFields();
  fields.ticks.subscribe = async function* (_root: unknown, args: { count: number }) {
    for (let i = 1; i <= args.count; i++) yield { ticks: i };
  };
  fields.whoAmI.subscribe = async function* (_root: unknown, _args: unknown, context: SubscriptionContext) {
    const { req, connection } = context;
    yield { whoAmI: JSON.stringify({ correlationId: req.id, authorization: connection.authorization, params: connection.connectionParams }) };
  };
  fields.refused.subscribe = () => {
    throw new AllianceError('TEST.REFUSED', 'forbidden', 'not for you', { details: { reason: 'test' } });
  };
  fields.forever.subscribe = () => {
    foreverQueue = new SubscriptionQueue<{ forever: number }>({ limit: 10, onStop: () => foreverStopped++ });
    foreverQueue.push({ forever: 1 });
    return foreverQueue;
  };
  return schema;
}

// Only `ledger` serves subscriptions in this supergraph, and `notRouted` belongs to no subgraph.
const supergraph = (port: number) => `
schema @link(url: "https://specs.apollo.dev/link/v1.0") @link(url: "https://specs.apollo.dev/join/v0.5", for: EXECUTION) { query: Query subscription: Subscription }
directive @join__field(graph: join__Graph) repeatable on FIELD_DEFINITION
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__type(graph: join__Graph!) repeatable on OBJECT
directive @link(url: String, as: String, for: String) repeatable on SCHEMA
enum join__Graph { LEDGER @join__graph(name: "ledger", url: "http://127.0.0.1:${port}/graphql") }
type Query @join__type(graph: LEDGER) { ok: Boolean }
type Subscription @join__type(graph: LEDGER) {
  ticks(count: Int!): Int! @join__field(graph: LEDGER)
  whoAmI: String! @join__field(graph: LEDGER)
  refused: Int! @join__field(graph: LEDGER)
  forever: Int! @join__field(graph: LEDGER)
  notRouted: Int! @join__field
}
`;

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function startUpstream(): Promise<void> {
  const server = createServer((_req, res) => res.writeHead(404).end());
  const schema = subgraphSchema();
  websockets.push(serveGraphQLSubscriptions(server, schemaSubscriptions(() => schema), { logger, isDraining: () => false }));
  upstreamPort = await listen(server);
}

beforeAll(async () => {
  await startUpstream();
  const relay = new SubscriptionRelay({ logger, connectTimeoutMs: 5_000, bufferLimit: 100 });
  relay.updateSupergraph(supergraph(upstreamPort), buildSchema(sdl));
  const gateway = createServer((_req, res) => res.writeHead(404).end());
  websockets.push(serveGraphQLSubscriptions(gateway, relay, { logger, isDraining: () => false }));
  gatewayUrl = `ws://127.0.0.1:${await listen(gateway)}/graphql`;
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await Promise.all(websockets.map((w) => w.close()));
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

function connect(headers: Record<string, string> = {}, connectionParams?: Record<string, unknown>): Client {
  const client = createClient({
    url: gatewayUrl,
    connectionParams,
    retryAttempts: 0,
    webSocketImpl: class extends WebSocket {
      constructor(address: string | URL, protocols?: string | string[]) {
        super(address, protocols, { headers });
      }
    },
  });
  clients.push(client);
  return client;
}

type Outcome = { results: FormattedExecutionResult[]; error?: unknown; completed: boolean };

function run(client: Client, query: string, stopAfter = Infinity): Promise<Outcome> {
  return new Promise((resolve) => {
    const results: FormattedExecutionResult[] = [];
    const unsubscribe = client.subscribe<Record<string, unknown>, Record<string, unknown>>(
      { query },
      {
        next: (r) => {
          results.push(r);
          if (results.length >= stopAfter) {
            unsubscribe();
            resolve({ results, completed: false });
          }
        },
        error: (error) => resolve({ results, error, completed: false }),
        complete: () => resolve({ results, completed: true }),
      },
    );
  });
}

describe('SubscriptionRelay', () => {
  it('relays a subscription to the subgraph that owns its root field and completes with it', async () => {
    const outcome = await run(connect(), 'subscription { ticks(count: 3) }');
    expect(outcome).toEqual({ results: [1, 2, 3].map((n) => ({ data: { ticks: n } })), completed: true });
  });

  it('forwards the correlation id and Authorization as headers and the connection_init payload unchanged', async () => {
    const outcome = await run(connect({ 'X-Correlation-Id': 'relay-corr-1', Authorization: 'Bearer abc' }, { dashboard: 'ops' }), 'subscription { whoAmI }');
    expect(JSON.parse(outcome.results[0].data?.whoAmI as string)).toEqual({ correlationId: 'relay-corr-1', authorization: 'Bearer abc', params: { dashboard: 'ops' } });
  });

  it('passes the subgraph’s errors through with their stable code and the caller’s correlation id', async () => {
    const outcome = await run(connect({ 'X-Correlation-Id': 'relay-corr-2' }), 'subscription { refused }');
    expect(outcome.completed).toBe(true);
    expect(outcome.results[0].errors?.[0]).toMatchObject({ message: 'not for you', extensions: { code: 'TEST.REFUSED', status: 403, correlationId: 'relay-corr-2', details: { reason: 'test' } } });
  });

  it('answers a field no subgraph serves with GATEWAY.UNKNOWN_SUBSCRIPTION', async () => {
    const outcome = await run(connect(), 'subscription { notRouted }');
    expect((outcome.error as GraphQLError[])[0]).toMatchObject({ extensions: { code: 'GATEWAY.UNKNOWN_SUBSCRIPTION' } });
    expect((outcome.error as GraphQLError[])[0].message).toMatch(/no subgraph serves the subscription field "notRouted"; known: forever, refused, ticks, whoAmI/);
  });

  it('stops the upstream subscription at once when the client unsubscribes', async () => {
    const before = foreverStopped;
    const outcome = await run(connect(), 'subscription { forever }', 1);
    expect(outcome.results).toEqual([{ data: { forever: 1 } }]);
    await expect.poll(() => foreverStopped, { timeout: 5_000 }).toBe(before + 1);
  });

  it('ends the client’s subscription with GATEWAY.UPSTREAM_UNAVAILABLE when the subgraph goes away', async () => {
    let first: () => void = () => undefined;
    const running = new Promise<void>((resolve) => (first = resolve));
    const ended = new Promise<unknown>((resolve) => connect().subscribe({ query: 'subscription { forever }' }, { next: () => first(), error: resolve, complete: () => resolve('completed') }));
    await running;
    await websockets[0].close();
    const error = (await ended) as GraphQLError[];
    expect(error[0]).toMatchObject({ extensions: { code: 'GATEWAY.UPSTREAM_UNAVAILABLE', status: 503 } });
    expect(error[0].message).toMatch(/the ledger service's subscription ended unexpectedly \(closed 1001 going away\); subscribe again/);
  });
});
