import { type Client, createClient } from 'graphql-ws';

/**
 * How the dashboard talks to the gateway of the origin it was served from:
 * GraphQL queries over HTTP at /graphql, subscriptions over graphql-ws at
 * ws(s)://<same origin>/graphql; nothing else (the session's sign-in is
 * the SDK's).
 */

/** Gives a valid `Bearer …` header, refreshing the token when needed (the SDK session). */
export type Authorize = () => Promise<string>;

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

interface GraphQLErrorShape {
  readonly message: string;
  readonly extensions?: { readonly code?: string };
}

export function describeGraphQLErrors(errors: readonly GraphQLErrorShape[]): ApiError {
  const first = errors[0];
  const code = first?.extensions?.code;
  return new ApiError(`${first?.message ?? 'the request failed'}${code ? ` (${code})` : ''}`, code, undefined);
}

export async function query<T>(authorize: Authorize, document: string, variables: Record<string, unknown> = {}, signal?: AbortSignal): Promise<T> {
  let response: Response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: await authorize() },
      body: JSON.stringify({ query: document, variables }),
      signal,
    });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new ApiError(`The gateway did not answer: ${(error as Error).message}`, 'NETWORK', undefined);
  }
  let body: { data?: T | null; errors?: GraphQLErrorShape[] };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new ApiError(`The gateway answered HTTP ${response.status} without JSON`, undefined, response.status);
  }
  if (body.errors && body.errors.length > 0) throw describeGraphQLErrors(body.errors);
  if (!response.ok || body.data == null) throw new ApiError(`The gateway answered HTTP ${response.status}`, undefined, response.status);
  return body.data;
}

/** What ended a subscription (graphql-ws gives GraphQL errors as an array, else a CloseEvent), as an ApiError. */
export function subscriptionError(error: unknown, what: string): ApiError {
  if (Array.isArray(error)) return describeGraphQLErrors(error as GraphQLErrorShape[]);
  return new ApiError(`${what} closed: ${(error as { reason?: string }).reason || 'connection lost'}`, 'NETWORK', undefined);
}

/** ws: or wss: of the page's own origin. */
export function graphqlWsUrl(location: { readonly protocol: string; readonly host: string }): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/graphql`;
}

/** One graphql-ws client per session: the token goes in connection_init (browsers cannot set headers on a WebSocket). */
export function subscriptionClient(authorize: Authorize): Client {
  return createClient({
    url: graphqlWsUrl(window.location),
    connectionParams: async () => ({ authorization: await authorize() }),
    lazy: true,
    retryAttempts: 5,
  });
}
