import {
  CertificationPolicy,
  ConsortiumMember,
  Envelope,
  ProtocolError,
  canonicalBytes,
  isJsonObject,
  leafHash,
  toHex,
  validateEnvelope,
  validateMembers,
  validatePolicy,
} from '@alliance/protocol';
import { AllianceSdkError, SdkErrorCode } from './errors';

/**
 * What a verifier trusts: the consortium's node keys and policies, pinned out
 * of band (the genesis file the consortium published) rather than taken from
 * the node being checked. A receipt or a node can claim any members; only a
 * pinned set turns "internally consistent" into "signed by the consortium".
 */
export interface ChainTrust {
  /** Known when the source names it (genesis, chain configuration). */
  readonly chainId?: string;
  /** Configuration sequence these members are in force at (0 = genesis). */
  readonly sequence: number;
  readonly members: readonly ConsortiumMember[];
  readonly certification: CertificationPolicy;
  /** Approves configuration changes; defaults to the certification policy. */
  readonly configuration: CertificationPolicy;
  /** leafHash of the genesis envelope, when the trust came from it: block 0's dataRoot and logRoot. */
  readonly genesisLeafHash?: string;
  /** Where it came from, for messages. */
  readonly source: 'genesis' | 'chain-config' | 'members';
}

const MAJORITY: CertificationPolicy = { type: 'majority' };
/** The world-state key the configuration contracts write (libs/ledger/domain/src/contracts/config.ts). */
export const CONFIG_STATE_KEY = 'config/chain';

function bad(detail: string, cause?: unknown): never {
  throw new AllianceSdkError(SdkErrorCode.MALFORMED_TRUST, detail, { cause });
}

function policyOf(value: unknown, memberCount: number, what: string): CertificationPolicy {
  if (value === undefined) return MAJORITY;
  // The demo consortium file writes policies as bare strings.
  const v = value === 'majority' || value === 'all' ? { type: value } : value;
  try {
    return validatePolicy(v, memberCount);
  } catch (error) {
    return bad(`${what}: ${(error as Error).message}`, error);
  }
}

function membersOf(value: unknown, what: string): ConsortiumMember[] {
  try {
    return validateMembers(value).map((m) => ({ organizationId: m.organizationId, algorithm: m.algorithm, publicKey: m.publicKey }));
  } catch (error) {
    return bad(`${what}: ${(error as Error).message}`, error);
  }
}

/** Members and policies of a ledger chain configuration (`config.genesis` / `config.update` payload `config`). */
export function trustFromChainConfig(config: unknown, source: ChainTrust['source'] = 'chain-config'): ChainTrust {
  if (!isJsonObject(config)) bad('a chain configuration must be a JSON object');
  const c = config as Record<string, unknown>;
  if (!Array.isArray(c['members'])) bad('chain configuration: members must be an array');
  const members = membersOf(
    (c['members'] as unknown[]).map((m) => {
      const member = (isJsonObject(m) ? m : {}) as Record<string, unknown>;
      const nodeKey = (isJsonObject(member['nodeKey']) ? member['nodeKey'] : {}) as Record<string, unknown>;
      return { organizationId: member['organizationId'], algorithm: nodeKey['algorithm'], publicKey: nodeKey['publicKey'] };
    }),
    'chain configuration members (nodeKey)',
  );
  const policies = (isJsonObject(c['policies']) ? c['policies'] : {}) as Record<string, unknown>;
  const sequence = c['sequence'];
  if (typeof sequence !== 'number' || !Number.isSafeInteger(sequence) || sequence < 0) bad('chain configuration: sequence must be an integer >= 0');
  const certification = policyOf(policies['certification'], members.length, 'policies.certification');
  return {
    ...(typeof c['chainId'] === 'string' ? { chainId: c['chainId'] } : {}),
    sequence,
    members,
    certification,
    configuration: policyOf(policies['configuration'] ?? certification, members.length, 'policies.configuration'),
    source,
  };
}

/** The trust a genesis envelope (`LEDGER_GENESIS_FILE`, a signed `config.genesis` transaction) establishes. */
export function trustFromGenesis(envelope: unknown): ChainTrust {
  let env: Envelope;
  try {
    env = validateEnvelope(envelope);
  } catch (error) {
    return bad(`not a genesis envelope: ${(error as Error).message}`, error);
  }
  if (env.transaction.type !== 'config.genesis') bad(`not a genesis envelope: its type is ${env.transaction.type}, not config.genesis`);
  const trust = trustFromChainConfig((env.transaction.payload as Record<string, unknown>)['config'], 'genesis');
  if (trust.chainId !== undefined && trust.chainId !== env.transaction.chainId) bad('the genesis configuration names another chain than its transaction');
  return { ...trust, chainId: env.transaction.chainId, genesisLeafHash: toHex(leafHash(canonicalBytes(env))) };
}

/**
 * Reads any of the trust files the CLI accepts for `--members`:
 *  - a genesis envelope (`{ transaction: { type: "config.genesis", … }, signature }`);
 *  - a chain configuration (`{ chainId, sequence, members: [{ organizationId, nodeKey }], policies }`);
 *  - `{ members: [{ organizationId, algorithm, publicKey }], policy?, chainId? }` (receipt-style member list);
 *  - a bare array of such members (majority policy).
 */
export function parseTrust(value: unknown): ChainTrust {
  if (Array.isArray(value)) {
    const members = membersOf(value, 'members');
    return { sequence: 0, members, certification: MAJORITY, configuration: MAJORITY, source: 'members' };
  }
  if (!isJsonObject(value)) bad('a members file must be a JSON object or array');
  const v = value as Record<string, unknown>;
  if (isJsonObject(v['transaction']) && isJsonObject(v['signature'])) return trustFromGenesis(value);
  if (Array.isArray(v['members']) && v['members'].some((m) => isJsonObject(m) && isJsonObject((m as Record<string, unknown>)['nodeKey']))) {
    return trustFromChainConfig(value);
  }
  if (Array.isArray(v['members'])) {
    const members = membersOf(v['members'], 'members');
    const certification = policyOf(v['policy'] ?? (isJsonObject(v['policies']) ? (v['policies'] as Record<string, unknown>)['certification'] : undefined), members.length, 'policy');
    const chainId = typeof v['chainId'] === 'string' ? v['chainId'] : undefined;
    return { ...(chainId ? { chainId } : {}), sequence: 0, members, certification, configuration: certification, source: 'members' };
  }
  return bad('not a members file: expected a genesis envelope, a chain configuration, or { members: [...] }');
}

export type ConfigChange = { readonly ok: true; readonly trust: ChainTrust } | { readonly ok: false; readonly detail: string };

/**
 * The members after a block that changes the configuration (docs/protocol.md
 * §7.4): the block itself is certified by `current` (the members in force
 * before it), whose signatures cover the results root that commits to
 * `newConfig`; so a verifier that trusts `current` adopts `newConfig` —
 * whichever contract wrote it (`config.update` with approvals, a deciding
 * membership vote) — provided it is a well-formed next configuration of the
 * same chain.
 */
export function adoptConfiguration(current: ChainTrust, newConfig: unknown): ConfigChange {
  try {
    const next = trustFromChainConfig(newConfig);
    if (next.sequence !== current.sequence + 1) return { ok: false, detail: `configuration sequence ${next.sequence} does not follow ${current.sequence}` };
    if (current.chainId !== undefined && next.chainId !== undefined && next.chainId !== current.chainId) return { ok: false, detail: 'the configuration names another chain' };
    return { ok: true, trust: { ...next, chainId: next.chainId ?? current.chainId, source: current.source } };
  } catch (error) {
    if (error instanceof AllianceSdkError || error instanceof ProtocolError) return { ok: false, detail: error.message };
    return { ok: false, detail: 'unreadable configuration' };
  }
}
