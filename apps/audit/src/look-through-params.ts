import { AllianceError } from '@alliance/shared/util-errors';
import { epochDay } from './look-through-terms';

/**
 * The look-through views' parameters, checked before any upstream is asked:
 * a malformed one is 400 AUDIT.INVALID_QUERY with `details.parameter` (a typo
 * must not silently widen a regulator's query). What only the upstream can
 * know — an organization, receivable or item that does not exist — comes back
 * with the upstream's own code and status.
 */

export const invalid = (parameter: string, message: string) => new AllianceError('AUDIT.INVALID_QUERY', 'invalid', message, { details: { parameter } });

/** The chain's organization ids (libs/ledger/domain contracts/config.ts ORGANIZATION_ID_PATTERN). */
const ORGANIZATION_ID = /^[a-z][a-z0-9-]{0,62}$/;
/** Finance ids (docs/finance.md: `/^[A-Za-z0-9_-]{8,64}$/`). */
const FINANCE_ID = /^[A-Za-z0-9_-]{8,64}$/;
const KEY_ID = /^[0-9a-f]{32}$/;
const AGENT_ID = /^[a-z0-9._-]{1,64}$/;

export const TRACE_DIRECTIONS = ['upstream', 'downstream', 'both'] as const;
export type TraceDirection = (typeof TRACE_DIRECTIONS)[number];
export const DEVICE_STATUSES = ['active', 'suspended', 'retired'] as const;

export function organizationIdOf(value: unknown, parameter = 'organizationId'): string {
  if (typeof value !== 'string' || !ORGANIZATION_ID.test(value)) throw invalid(parameter, `${parameter} must be an organization id: lower-case letters, digits and dashes, starting with a letter`);
  return value;
}

export function optionalOrganizationIdOf(value: unknown, parameter: string): string | undefined {
  return value === undefined || value === '' ? undefined : organizationIdOf(value, parameter);
}

export function receivableIdOf(value: unknown): string {
  if (typeof value !== 'string' || !FINANCE_ID.test(value)) throw invalid('receivableId', 'receivableId must be 8-64 letters, digits, dashes or underscores');
  return value;
}

export function keyIdOf(value: unknown): string {
  if (typeof value !== 'string' || !KEY_ID.test(value)) throw invalid('keyId', 'a key id is 32 lower-case hex digits (docs/protocol.md §3.2)');
  return value;
}

export function agentIdOf(value: unknown): string {
  if (typeof value !== 'string' || !AGENT_ID.test(value)) throw invalid('agentId', 'agentId must be 1-64 lower-case letters, digits, dots, dashes or underscores');
  return value;
}

export function deviceIdOf(value: unknown): string {
  if (typeof value !== 'string' || value.length < 1 || value.length > 300) throw invalid('deviceId', 'deviceId must be a GIAI URN, GS1 Digital Link or DID of at most 300 characters');
  return value;
}

/** An integer from `min` to `max`, or `fallback` when absent. */
export function intOf(value: unknown, parameter: string, min: number, max: number, fallback?: number): number | undefined {
  if (value === undefined || value === null || value === '') return fallback;
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^\d{1,9}$/.test(text) || Number(text) < min || Number(text) > max) throw invalid(parameter, `${parameter} must be an integer from ${min} to ${max}`);
  return Number(text);
}

export function oneOf<T extends string>(value: unknown, allowed: readonly T[], parameter: string): T | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw invalid(parameter, `${parameter} must be one of ${allowed.join(', ')}`);
  return value as T;
}

/** The item of a trace: an EPC, lot or product class, URN or GS1 Digital Link (provenance checks the form). */
export function itemOf(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 1000) throw invalid('item', 'item must be an EPC, lot or product class (URN or GS1 Digital Link) of at most 1000 characters');
  return value;
}

export function dateOf(value: unknown, parameter: string): string {
  if (typeof value !== 'string' || epochDay(value) === null) throw invalid(parameter, `${parameter} must be a calendar date YYYY-MM-DD (UTC)`);
  return value;
}

/** The window of a payment-term query: both dates required, `from` ≤ `to`. */
export function windowOf(from: unknown, to: unknown): { from: string; to: string } {
  const f = dateOf(from, 'from');
  const t = dateOf(to, 'to');
  if (f > t) throw invalid('to', 'to must not be before from');
  return { from: f, to: t };
}

/** Refuses query parameters a route does not take. */
export function onlyParameters(query: Record<string, unknown>, allowed: readonly string[]): void {
  for (const name of Object.keys(query)) if (!allowed.includes(name)) throw invalid(name, `unknown parameter ${name}${allowed.length ? ` (this route takes ${allowed.join(', ')})` : ' (this route takes none)'}`);
  for (const [name, value] of Object.entries(query)) if (Array.isArray(value)) throw invalid(name, `${name} may be given once`);
}
