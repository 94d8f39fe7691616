import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { ascii, concatBytes } from './encoding';
import { ProtocolErrorCode, fail } from './errors';
import { nodeCrypto } from './node-crypto';

/**
 * SHA-256 (FIPS 180-4), the protocol's only hash: node:crypto where there is
 * Node (3–5× faster on the 100–500-byte inputs of every leaf and id), else
 * @noble/hashes. The same function either way; tests compare the two.
 */
export function sha256(data: Uint8Array): Uint8Array {
  const c = nodeCrypto();
  if (c === null) return nobleSha256(data);
  const digest = c.createHash('sha256').update(data).digest();
  return new Uint8Array(digest); // a plain Uint8Array, never a view into a Buffer pool
}

/** SHA-256 of the concatenation of `parts`, without building it (Merkle leaves and nodes). */
export function sha256Concat(...parts: Uint8Array[]): Uint8Array {
  const c = nodeCrypto();
  if (c === null) return nobleSha256(concatBytes(...parts));
  const hash = c.createHash('sha256');
  for (const p of parts) hash.update(p);
  return new Uint8Array(hash.digest());
}

/** The portable implementation, for cross-tests. */
export function portableSha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

/**
 * Domain-separation tags. Every signature covers `signingInput(domain, message)`,
 * so a signature made for one purpose never verifies for another. Checkpoints
 * have no tag here: they are C2SP signed notes, whose signed bytes are the note
 * text, and its first line `alliance/<chainId>` separates them (docs/protocol.md §4).
 */
export const SignatureDomain = {
  transaction: 'alliance/transaction/v1',
  blockHeader: 'alliance/block-header/v1',
  authChallenge: 'alliance/auth-challenge/v1',
  /** A member's approval of a configuration change (`config.update` contract). */
  configUpdate: 'alliance/config-update/v1',
  /** An applicant organization's admin key proving possession over its membership application. */
  membershipApplication: 'alliance/membership-application/v1',
  /** A registered device's signature over one telemetry reading (docs/identity.md, Devices). */
  deviceTelemetry: 'alliance/device-telemetry/v1',
  /** The audit service's signature over the head of its access log (docs/audit.md, Access log). */
  auditLogHead: 'alliance/audit-log-head/v1',
  /** The audit service's signature over an evidence package (docs/audit.md, Evidence packages). */
  evidencePackage: 'alliance/evidence-package/v1',
  /** A service's seal over an event it publishes, for consumers that act on it with their organization's key (docs/protocol.md §3.1, Event seals). */
  eventSeal: 'alliance/event-seal/v1',
} as const;

export type SignatureDomain = (typeof SignatureDomain)[keyof typeof SignatureDomain];

const DOMAINS: ReadonlySet<string> = new Set(Object.values(SignatureDomain));

export function isSignatureDomain(value: unknown): value is SignatureDomain {
  return typeof value === 'string' && DOMAINS.has(value);
}

// ASCII(domain) ‖ 0x00, computed once per domain (this is on every verification).
const PREFIXES: ReadonlyMap<string, Uint8Array> = new Map(Object.values(SignatureDomain).map((d) => [d, concatBytes(ascii(d), new Uint8Array([0]))]));

/** ASCII(domain) ‖ 0x00 ‖ message. The tag contains no 0x00, so the split is unambiguous. */
export function signingInput(domain: SignatureDomain, message: Uint8Array): Uint8Array {
  const prefix = PREFIXES.get(domain);
  if (prefix === undefined) return fail(ProtocolErrorCode.UNSUPPORTED_DOMAIN, `unknown signature domain "${String(domain)}"`);
  return concatBytes(prefix, message);
}
