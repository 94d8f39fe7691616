import {
  type ConstArgumentNode,
  type ConstDirectiveNode,
  type DefinitionNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type FieldNode,
  getOperationAST,
  Kind,
  parse,
  type SelectionSetNode,
} from 'graphql';
import { AllianceError } from '@alliance/shared/util-errors';

/** Which subgraph serves one root field of the supergraph's subscription type, and where its WebSocket is. */
export interface SubscriptionRoute {
  readonly field: string;
  readonly subgraph: string;
  /** The subgraph's GraphQL URL as composed, with `ws:`/`wss:` for `http:`/`https:`. */
  readonly url: string;
}

export type SubscriptionRoutes = ReadonlyMap<string, SubscriptionRoute>;

/**
 * Reads the routing table of subscriptions from a supergraph SDL (Apollo
 * Federation 2, join spec): the subscription root type's fields, each owned
 * by the graphs named in its `@join__field(graph:)`, or, without one, by the
 * type's `@join__type(graph:)`; graphs resolve to subgraph name and URL
 * through `enum join__Graph`'s `@join__graph(name:, url:)`. A field several
 * subgraphs share (`@shareable`) goes to the first of them in the supergraph.
 */
export function subscriptionRoutes(supergraphSdl: string): SubscriptionRoutes {
  const document = parse(supergraphSdl);
  const join = joinPrefix(document);
  const graphs = new Map<string, { name: string; url: string }>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.ENUM_TYPE_DEFINITION || definition.name.value !== `${join}__Graph`) continue;
    for (const value of definition.values ?? []) {
      const graph = directives(value.directives, `${join}__graph`)[0];
      const name = stringArgument(graph?.arguments, 'name');
      const url = stringArgument(graph?.arguments, 'url');
      if (name && url) graphs.set(value.name.value, { name, url: webSocketUrlOf(url) });
    }
  }
  const typeName = subscriptionTypeName(document);
  const routes = new Map<string, SubscriptionRoute>();
  for (const definition of document.definitions) {
    if (!isObjectType(definition) || definition.name.value !== typeName) continue;
    const typeGraphs = directives(definition.directives, `${join}__type`).map((d) => enumArgument(d.arguments, 'graph'));
    for (const field of definition.fields ?? []) {
      const owner = ownersOf(field, join, typeGraphs)
        .map((g) => (g ? graphs.get(g) : undefined))
        .find((g) => g !== undefined);
      if (owner && !routes.has(field.name.value)) routes.set(field.name.value, { field: field.name.value, subgraph: owner.name, url: owner.url });
    }
  }
  return routes;
}

/**
 * The one root field of a subscription operation (GraphQL allows exactly one),
 * looking through fragments; `document` has passed validation.
 */
export function rootFieldOf(document: DocumentNode, operationName?: string): string {
  const operation = getOperationAST(document, operationName);
  if (!operation || operation.operation !== 'subscription') throw new AllianceError('GATEWAY.NOT_A_SUBSCRIPTION', 'invalid', 'the operation is not a subscription');
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d.selectionSet] as const] : [])));
  const fields = new Set<string>();
  const collect = (selectionSet: SelectionSetNode, seen: Set<string>): void => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) fields.add((selection as FieldNode).name.value);
      else if (selection.kind === Kind.INLINE_FRAGMENT) collect(selection.selectionSet, seen);
      else if (!seen.has(selection.name.value)) {
        const fragment = fragments.get(selection.name.value);
        if (fragment) collect(fragment, new Set([...seen, selection.name.value]));
      }
    }
  };
  collect(operation.selectionSet, new Set());
  if (fields.size !== 1) throw new AllianceError('GATEWAY.NOT_A_SUBSCRIPTION', 'invalid', `a subscription selects exactly one root field (got ${fields.size})`);
  return [...fields][0];
}

/** The route of `field`, or GATEWAY.UNKNOWN_SUBSCRIPTION naming the fields the gateway can route. */
export function routeOf(routes: SubscriptionRoutes, field: string): SubscriptionRoute {
  const route = routes.get(field);
  if (route) return route;
  const known = [...routes.keys()].sort();
  throw new AllianceError('GATEWAY.UNKNOWN_SUBSCRIPTION', 'invalid', `no subgraph serves the subscription field "${field}"${known.length ? `; known: ${known.join(', ')}` : '; the supergraph has no subscriptions'}`, {
    details: { field, known },
  });
}

export function webSocketUrlOf(httpUrl: string): string {
  return httpUrl.replace(/^http(s?):\/\//i, (_m, s: string) => `ws${s.toLowerCase()}://`);
}

function ownersOf(field: FieldDefinitionNode, join: string, typeGraphs: ReadonlyArray<string | undefined>): ReadonlyArray<string | undefined> {
  const joins = directives(field.directives, `${join}__field`);
  if (joins.length === 0) return typeGraphs;
  return joins.filter((d) => !booleanArgument(d.arguments, 'external') && !booleanArgument(d.arguments, 'usedOverridden')).map((d) => enumArgument(d.arguments, 'graph'));
}

// The join spec's elements are prefixed `join__` unless its @link renames them (`as:`).
function joinPrefix(document: DocumentNode): string {
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.SCHEMA_DEFINITION) continue;
    for (const link of directives(definition.directives, 'link')) {
      if (/^https:\/\/specs\.apollo\.dev\/join\//.test(stringArgument(link.arguments, 'url') ?? '')) return stringArgument(link.arguments, 'as') ?? 'join';
    }
  }
  return 'join';
}

function subscriptionTypeName(document: DocumentNode): string {
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.SCHEMA_DEFINITION && definition.kind !== Kind.SCHEMA_EXTENSION) continue;
    const operation = definition.operationTypes?.find((o) => o.operation === 'subscription');
    if (operation) return operation.type.name.value;
  }
  return 'Subscription';
}

function isObjectType(definition: DefinitionNode): definition is Extract<DefinitionNode, { kind: Kind.OBJECT_TYPE_DEFINITION | Kind.OBJECT_TYPE_EXTENSION }> {
  return definition.kind === Kind.OBJECT_TYPE_DEFINITION || definition.kind === Kind.OBJECT_TYPE_EXTENSION;
}

function directives(list: readonly ConstDirectiveNode[] | undefined, name: string): ConstDirectiveNode[] {
  return (list ?? []).filter((d) => d.name.value === name);
}

function argument(args: readonly ConstArgumentNode[] | undefined, name: string) {
  return args?.find((a) => a.name.value === name)?.value;
}

function stringArgument(args: readonly ConstArgumentNode[] | undefined, name: string): string | undefined {
  const value = argument(args, name);
  return value?.kind === Kind.STRING ? value.value : undefined;
}

function enumArgument(args: readonly ConstArgumentNode[] | undefined, name: string): string | undefined {
  const value = argument(args, name);
  return value?.kind === Kind.ENUM ? value.value : undefined;
}

function booleanArgument(args: readonly ConstArgumentNode[] | undefined, name: string): boolean {
  const value = argument(args, name);
  return value?.kind === Kind.BOOLEAN && value.value;
}
