import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { isAllianceError } from '@alliance/shared/util-errors';
import { rootFieldOf, routeOf, subscriptionRoutes, webSocketUrlOf } from './subscription-routing';

// The shape Apollo composition gives for our subgraphs (trimmed): the subscription type is in one
// subgraph only, so its fields carry no @join__field and the type's @join__type names the owner.
const composed = `
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.5", for: EXECUTION)
{
  query: Query
  subscription: Subscription
}
directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA
scalar join__FieldSet
scalar link__Import
enum link__Purpose { SECURITY EXECUTION }
enum join__Graph {
  IDENTITY @join__graph(name: "identity", url: "http://127.0.0.1:3381/graphql")
  LEDGER @join__graph(name: "ledger", url: "http://127.0.0.1:3382/graphql")
}
type LedgerBlock @join__type(graph: LEDGER) { blockNumber: Int! }
type Query @join__type(graph: IDENTITY) @join__type(graph: LEDGER) {
  identityStatus: String! @join__field(graph: IDENTITY)
  ledgerStatus: String! @join__field(graph: LEDGER)
}
type Subscription @join__type(graph: LEDGER) {
  ledgerBlockCertified(from: Int): LedgerBlock!
}
`;

// Two subgraphs with subscriptions: the root type is in both, so each field names its graph;
// the join spec is renamed with `as:` and one subgraph is served over TLS.
const twoOwners = `
schema @link(url: "https://specs.apollo.dev/link/v1.0") @link(url: "https://specs.apollo.dev/join/v0.3", as: "j", for: EXECUTION) {
  query: Query
  subscription: Live
}
directive @j__field(graph: j__Graph, external: Boolean, usedOverridden: Boolean) repeatable on FIELD_DEFINITION
directive @j__graph(name: String!, url: String!) on ENUM_VALUE
directive @j__type(graph: j__Graph!) repeatable on OBJECT
directive @link(url: String, as: String, for: String) repeatable on SCHEMA
enum j__Graph {
  LEDGER @j__graph(name: "ledger", url: "http://ledger:3000/graphql")
  PROVENANCE @j__graph(name: "provenance", url: "https://provenance.example:8443/graphql")
}
type Query @j__type(graph: LEDGER) { a: Int }
type Live @j__type(graph: LEDGER) @j__type(graph: PROVENANCE) {
  ledgerBlockCertified: Int @j__field(graph: LEDGER)
  provenanceAlertRaised: Int @j__field(graph: PROVENANCE)
  sharedTick: Int @j__field(graph: PROVENANCE, usedOverridden: true) @j__field(graph: LEDGER)
}
`;

describe('subscriptionRoutes', () => {
  it('routes a field of a subscription type one subgraph owns to that subgraph’s WebSocket', () => {
    const routes = subscriptionRoutes(composed);
    expect([...routes.values()]).toEqual([{ field: 'ledgerBlockCertified', subgraph: 'ledger', url: 'ws://127.0.0.1:3382/graphql' }]);
  });

  it('routes by each field’s own graph, follows a renamed join spec and a renamed root type, skips overridden owners', () => {
    const routes = subscriptionRoutes(twoOwners);
    expect(routes.get('ledgerBlockCertified')).toEqual({ field: 'ledgerBlockCertified', subgraph: 'ledger', url: 'ws://ledger:3000/graphql' });
    expect(routes.get('provenanceAlertRaised')).toEqual({ field: 'provenanceAlertRaised', subgraph: 'provenance', url: 'wss://provenance.example:8443/graphql' });
    expect(routes.get('sharedTick')?.subgraph).toBe('ledger');
    expect(routes.has('a')).toBe(false);
  });

  it('is empty for a supergraph without subscriptions', () => {
    expect(subscriptionRoutes(composed.replace(/type Subscription[\s\S]*$/, '').replace('subscription: Subscription', '')).size).toBe(0);
  });
});

describe('rootFieldOf', () => {
  it('finds the one root field, also through named and inline fragments', () => {
    expect(rootFieldOf(parse('subscription { ledgerBlockCertified { blockNumber } }'))).toBe('ledgerBlockCertified');
    expect(rootFieldOf(parse('subscription S { ...F } fragment F on Subscription { ... on Subscription { live: ledgerBlockCertified(from: 3) { blockNumber } } }'))).toBe('ledgerBlockCertified');
    expect(rootFieldOf(parse('query Q { a } subscription S { b }'), 'S')).toBe('b');
  });

  it('refuses a query and a selection of several root fields', () => {
    expect(() => rootFieldOf(parse('{ a }'))).toThrow(/not a subscription/);
    expect(() => rootFieldOf(parse('subscription { a b }'))).toThrow(/exactly one root field \(got 2\)/);
  });
});

describe('routeOf', () => {
  it('names the fields it can route when asked for one it cannot', () => {
    const routes = subscriptionRoutes(twoOwners);
    expect(routeOf(routes, 'provenanceAlertRaised').subgraph).toBe('provenance');
    try {
      routeOf(routes, 'auditFindingOpened');
      expect.unreachable();
    } catch (error) {
      expect(isAllianceError(error) && error.code).toBe('GATEWAY.UNKNOWN_SUBSCRIPTION');
      expect((error as Error).message).toBe('no subgraph serves the subscription field "auditFindingOpened"; known: ledgerBlockCertified, provenanceAlertRaised, sharedTick');
    }
    expect(() => routeOf(new Map(), 'x')).toThrow(/the supergraph has no subscriptions/);
  });
});

describe('webSocketUrlOf', () => {
  it('keeps host, port and path and swaps only the scheme', () => {
    expect(webSocketUrlOf('http://127.0.0.1:3002/graphql')).toBe('ws://127.0.0.1:3002/graphql');
    expect(webSocketUrlOf('HTTPS://h/graphql')).toBe('wss://h/graphql');
  });
});
