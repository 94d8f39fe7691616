import { field } from '@alliance/shared/util-config';

/** Upstream services the gateway fronts; one base URL for all of them (see README, Configuration). */
export const gatewayConfigShape = {
  /** The one base URL's port. */
  PORT: field.port(3000),
  IDENTITY_URL: field.httpUrl(),
  LEDGER_URL: field.httpUrl(),
  PROVENANCE_URL: field.httpUrl(),
  FINANCE_URL: field.httpUrl(),
  AUDIT_URL: field.httpUrl(),
  /** How long the gateway waits at start for every subgraph to answer before composing GraphQL. */
  GATEWAY_UPSTREAM_WAIT_MS: field.positiveInt(60_000),
  /** Timeout of one proxied REST request. */
  GATEWAY_PROXY_TIMEOUT_MS: field.positiveInt(30_000),
};
