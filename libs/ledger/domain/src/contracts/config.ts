import { canonicalBytes, SignatureDomain } from '@alliance/protocol';
import type { CertificationPolicy, ChainConfig, ContractContext, ContractHandler, ContractOutcome, JsonValue } from './types';

/** Where the chain configuration lives in world state. */
export const CONFIG_KEY = 'config/chain';
/** Approvals of a configuration change are signatures over the new config in this domain. */
export const CONFIG_APPROVAL_DOMAIN = SignatureDomain.configUpdate;

/** How many distinct members satisfy `policy` out of `memberCount`. */
/**
 * Upper bounds of block cutting, part of the validity of a configuration: a
 * block's decoded event (`ledger.block.committed.v1`, payloads and state
 * writes) must stay publishable, and a time-to-cut must come within a minute.
 */
export const CUTTING_LIMITS = { maxTransactions: 10_000, maxBytes: 4 * 1024 * 1024, batchTimeoutMs: 60_000 } as const;

export function requiredApprovals(policy: CertificationPolicy, memberCount: number): number {
  switch (policy.type) {
    case 'all':
      return memberCount;
    case 'majority':
      return Math.floor(memberCount / 2) + 1;
    case 'threshold':
      return Math.min(memberCount, Math.max(1, policy.threshold));
  }
}

/** Structural check of a chain configuration; returns the problems. */
/** Chain and organization ids of the configuration: lower-case letters, digits and dashes, starting with a letter. */
export const ORGANIZATION_ID_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;

export function validateChainConfig(value: unknown): string[] {
  const problems: string[] = [];
  const c = value as Partial<ChainConfig> | null;
  if (!c || typeof c !== 'object') return ['config must be an object'];
  if (typeof c.chainId !== 'string' || !ORGANIZATION_ID_PATTERN.test(c.chainId)) problems.push('chainId must be lower-case letters, digits and dashes');
  if (!Number.isSafeInteger(c.sequence) || (c.sequence ?? -1) < 0) problems.push('sequence must be a non-negative integer');
  if (!Array.isArray(c.members) || c.members.length === 0) problems.push('members must be a non-empty array');
  else {
    const ids = new Set<string>();
    for (const m of c.members) {
      if (!m || typeof m.organizationId !== 'string' || !ORGANIZATION_ID_PATTERN.test(m.organizationId)) problems.push('every member needs an organizationId');
      else if (ids.has(m.organizationId)) problems.push(`member ${m.organizationId} appears twice`);
      else ids.add(m.organizationId);
      if (!m?.nodeKey || m.nodeKey.algorithm !== 'ed25519' || !/^[0-9a-f]{64}$/.test(m.nodeKey.publicKey)) problems.push(`member ${m?.organizationId}: nodeKey must be an Ed25519 public key (64 hex digits)`);
      if (!Array.isArray(m?.keys)) problems.push(`member ${m?.organizationId}: keys must be an array`);
    }
  }
  if (c.observers !== undefined) {
    if (!Array.isArray(c.observers)) problems.push('observers must be an array');
    else {
      const memberIds = new Set((Array.isArray(c.members) ? c.members : []).map((m) => m?.organizationId));
      const seen = new Set<string>();
      for (const o of c.observers) {
        if (!o || typeof o.organizationId !== 'string' || !ORGANIZATION_ID_PATTERN.test(o.organizationId)) problems.push('every observer needs an organizationId');
        else if (memberIds.has(o.organizationId) || seen.has(o.organizationId)) problems.push(`observer ${o.organizationId} appears twice (or is also a member)`);
        else seen.add(o.organizationId);
        if (typeof o?.role !== 'string' || !/^[a-z][a-z-]{0,31}$/.test(o.role)) problems.push(`observer ${o?.organizationId}: role must be a role name, e.g. regulator`);
        if (!Array.isArray(o?.keys) || o.keys.length === 0) problems.push(`observer ${o?.organizationId}: keys must be a non-empty array`);
      }
    }
  }
  const policyOk = (p: CertificationPolicy | undefined) => !!p && ['majority', 'all', 'threshold'].includes(p.type) && (p.type !== 'threshold' || (Number.isSafeInteger(p.threshold) && p.threshold >= 1));
  if (!c.policies || !policyOk(c.policies.certification) || !policyOk(c.policies.configuration)) problems.push('policies.certification and policies.configuration must be majority, all or threshold (with threshold >= 1)');
  const cut = c.cutting;
  const inRange = (v: number | undefined, min: number, max: number) => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;
  if (!cut || !inRange(cut.maxTransactions, 1, CUTTING_LIMITS.maxTransactions) || !inRange(cut.maxBytes, 1024, CUTTING_LIMITS.maxBytes) || !inRange(cut.batchTimeoutMs, 1, CUTTING_LIMITS.batchTimeoutMs)) {
    problems.push(`cutting needs integers 1 <= maxTransactions <= ${CUTTING_LIMITS.maxTransactions}, 1024 <= maxBytes <= ${CUTTING_LIMITS.maxBytes} and 1 <= batchTimeoutMs <= ${CUTTING_LIMITS.batchTimeoutMs}`);
  }
  if (!Number.isSafeInteger(c.timestampWindowMs) || (c.timestampWindowMs ?? 0) < 1000) problems.push('timestampWindowMs must be an integer >= 1000');
  return problems;
}

/** `config.genesis`: only the genesis block holds it; it sets the first configuration. Payload: `{ "config": ChainConfig }`. */
export const genesisContract: ContractHandler = {
  type: 'config.genesis',
  configuration: true,
  execute(ctx) {
    if (ctx.blockNumber !== 0) return fail('LEDGER.GENESIS_ONLY', 'config.genesis is valid only in block 0');
    const config = (ctx.transaction.payload as { config?: unknown }).config;
    const problems = validateChainConfig(config);
    if (problems.length) return fail('LEDGER.CONFIG_INVALID', problems.join('; '));
    const c = config as ChainConfig;
    if (c.chainId !== ctx.chainId || c.sequence !== 0) return fail('LEDGER.CONFIG_INVALID', 'genesis config must name this chain and have sequence 0');
    return { ok: true, writes: [{ key: CONFIG_KEY, value: c as unknown as JsonValue }] };
  },
};

/**
 * `config.update`: replaces the configuration (policies, cutting parameters,
 * members) when enough current members approve it under the configuration
 * policy. Payload: `{ "config": ChainConfig (sequence = current + 1),
 * "approvals": [ { "organizationId", "signature": base64url } ] }`; each approval
 * is the member's node key signing `canonicalBytes(config)` in domain
 * `alliance/config-update/v1`.
 */
export const configUpdateContract: ContractHandler = {
  type: 'config.update',
  configuration: true,
  execute(ctx) {
    const payload = ctx.transaction.payload as { config?: unknown; approvals?: unknown };
    const problems = validateChainConfig(payload.config);
    if (problems.length) return fail('LEDGER.CONFIG_INVALID', problems.join('; '));
    const next = payload.config as ChainConfig;
    if (next.chainId !== ctx.chainId) return fail('LEDGER.CONFIG_INVALID', 'config.chainId cannot change');
    if (next.sequence !== ctx.config.sequence + 1) return fail('LEDGER.CONFIG_SEQUENCE', `config.sequence must be ${ctx.config.sequence + 1}`);
    const approved = countApprovals(ctx, next, payload.approvals);
    const needed = requiredApprovals(ctx.config.policies.configuration, ctx.config.members.length);
    if (approved < needed) return fail('LEDGER.CONFIG_NOT_APPROVED', `${approved} of ${needed} required member approvals`);
    return { ok: true, writes: [{ key: CONFIG_KEY, value: next as unknown as JsonValue }] };
  },
};

function countApprovals(ctx: ContractContext, next: ChainConfig, approvals: unknown): number {
  if (!Array.isArray(approvals)) return 0;
  const message = canonicalBytes(next as unknown as JsonValue);
  const approvedBy = new Set<string>();
  for (const a of approvals as Array<{ organizationId?: unknown; signature?: unknown }>) {
    if (!a || typeof a.organizationId !== 'string' || typeof a.signature !== 'string') continue;
    const member = ctx.config.members.find((m) => m.organizationId === a.organizationId);
    if (!member) continue;
    if (ctx.verifySignature('ed25519', member.nodeKey.publicKey, CONFIG_APPROVAL_DOMAIN, message, a.signature)) approvedBy.add(member.organizationId);
  }
  return approvedBy.size;
}

function fail(code: string, detail: string): ContractOutcome {
  return { ok: false, code, detail };
}
