import { type ASTVisitor, type FragmentDefinitionNode, GraphQLError, type GraphQLFormattedError, Kind, type SelectionSetNode, type ValidationContext } from 'graphql';

/**
 * Bounds on one GraphQL document, at the gateway and at every subgraph
 * (docs/security.md): selection depth (fragments followed), aliases, and the
 * query text's size and tokens. A document over a bound is refused before it
 * executes, with a stable `extensions.code`.
 */
export const GRAPHQL_LIMITS = {
  /** Nested selection sets below the operation (the standard introspection query needs 13). */
  maxDepth: 15,
  /** Aliased fields in the whole document (an alias is how one request repeats a costly field). */
  maxAliases: 30,
  /** Characters of the query text (variables are not counted: BODY_LIMIT_BYTES bounds them). */
  maxQueryLength: 32_768,
  /** Lexical tokens graphql-js parses before it gives up (GRAPHQL_PARSE_FAILED). */
  maxTokens: 5_000,
} as const;

export const GraphQLLimitCodes = {
  depth: 'GRAPHQL.DEPTH_LIMIT',
  aliases: 'GRAPHQL.ALIAS_LIMIT',
  size: 'GRAPHQL.QUERY_TOO_LARGE',
} as const;

function limitError(code: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}

/** How deep `set` goes, following fragment spreads once each per path. */
function depthOf(set: SelectionSetNode | undefined, fragments: Record<string, FragmentDefinitionNode>, seen: ReadonlySet<string>, limit: number, depth = 0): number {
  if (!set || depth > limit) return depth;
  let max = depth;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      max = Math.max(max, selection.selectionSet ? depthOf(selection.selectionSet, fragments, seen, limit, depth + 1) : depth);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      max = Math.max(max, depthOf(selection.selectionSet, fragments, seen, limit, depth));
    } else {
      const name = selection.name.value;
      const fragment = fragments[name];
      if (fragment && !seen.has(name)) max = Math.max(max, depthOf(fragment.selectionSet, fragments, new Set([...seen, name]), limit, depth));
    }
    if (max > limit) return max;
  }
  return max;
}

/** Validation rule: no operation nests deeper than `maxDepth`. */
export function maxDepthRule(maxDepth: number = GRAPHQL_LIMITS.maxDepth): (context: ValidationContext) => ASTVisitor {
  return (context) => {
    const fragments: Record<string, FragmentDefinitionNode> = {};
    for (const definition of context.getDocument().definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
    return {
      OperationDefinition(node) {
        const depth = depthOf(node.selectionSet, fragments, new Set(), maxDepth);
        if (depth > maxDepth) context.reportError(limitError(GraphQLLimitCodes.depth, `the ${node.name ? `operation ${node.name.value}` : 'operation'} nests deeper than ${maxDepth} levels`));
      },
    };
  };
}

/** Validation rule: at most `maxAliases` aliased fields in the document. */
export function maxAliasesRule(maxAliases: number = GRAPHQL_LIMITS.maxAliases): (context: ValidationContext) => ASTVisitor {
  return (context) => {
    let aliases = 0;
    return {
      Field(node) {
        if (node.alias && ++aliases === maxAliases + 1) context.reportError(limitError(GraphQLLimitCodes.aliases, `the document uses more than ${maxAliases} aliases`));
      },
    };
  };
}

/** Validation rule: the query text is at most `maxLength` characters. */
export function maxQueryLengthRule(maxLength: number = GRAPHQL_LIMITS.maxQueryLength): (context: ValidationContext) => ASTVisitor {
  return (context) => {
    const length = context.getDocument().loc?.source.body.length ?? 0;
    if (length > maxLength) context.reportError(limitError(GraphQLLimitCodes.size, `the query is ${length} characters; at most ${maxLength} are accepted`));
    return {};
  };
}

/** The rules every Apollo server of Alliance validates with (after graphql-js's own). */
export const graphqlLimitRules = () => [maxQueryLengthRule(), maxDepthRule(), maxAliasesRule()];

/** Apollo's parse options: the token bound. */
export const graphqlParseOptions = () => ({ maxTokens: GRAPHQL_LIMITS.maxTokens });

const LIMIT_CODES: ReadonlySet<string> = new Set(Object.values(GraphQLLimitCodes));

/**
 * Apollo reports every validation error as GRAPHQL_VALIDATION_FAILED; a
 * limit's own code (its original error's) is the one clients see.
 */
export function withLimitCode(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = (error as { originalError?: { extensions?: { code?: unknown } } } | undefined)?.originalError;
  const code = original?.extensions?.code;
  if (typeof code !== 'string' || !LIMIT_CODES.has(code)) return formatted;
  return { ...formatted, extensions: { ...formatted.extensions, code } };
}
