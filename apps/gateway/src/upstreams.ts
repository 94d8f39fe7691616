import type { ServiceConfig } from '@alliance/shared/feature-platform';
import type { gatewayConfigShape } from './config';

export type GatewayConfig = ServiceConfig<typeof gatewayConfigShape>;

export interface Upstream {
  /** Service name; also its REST prefix `/<name>/v1` and its subgraph name. */
  readonly name: 'identity' | 'ledger' | 'provenance' | 'finance' | 'audit';
  readonly url: string;
}

export function upstreamsOf(config: GatewayConfig): Upstream[] {
  return [
    { name: 'identity', url: config.IDENTITY_URL },
    { name: 'ledger', url: config.LEDGER_URL },
    { name: 'provenance', url: config.PROVENANCE_URL },
    { name: 'finance', url: config.FINANCE_URL },
    { name: 'audit', url: config.AUDIT_URL },
  ].map((u) => ({ ...u, url: u.url.replace(/\/+$/, '') })) as Upstream[];
}

export async function fetchJson(url: string, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON; keep the text
  }
  return { status: response.status, body };
}
