import { gs1CheckDigitOk } from './gs1';
import { canonicalBytes, fromHex, IDENTIFIER_PATTERN, isSignatureAlgorithm, isValidPublicKey, keyId as keyIdOf, SignatureDomain } from '@alliance/protocol';
import { adminOnly, keyInUse, reject } from './agent-keys';
import { CONFIG_KEY, requiredApprovals, validateChainConfig } from './config';
import type { ChainConfig, ContractContext, ContractHandler, ContractOutcome, JsonValue, MemberConfig } from './types';

/**
 * Consortium membership by vote (issue 4, third part): an organization joins,
 * leaves or is expelled through a proposal that the members vote on; the
 * configuration policy (`policies.configuration`, default a majority of the
 * members) decides, and the vote that decides writes the new configuration,
 * so it is a configuration block. From that block on, a departed member's keys
 * sign nothing valid and its node's signatures no longer count; everything it
 * signed before stays in the chain and verifiable. State:
 *
 *   identity/proposal/<proposalId> → Proposal   (proposalId = the proposing transaction's id)
 */
export type ProposalKind = 'join' | 'exit' | 'expel' | 'configure';

/** What a `configure` proposal changes in the chain configuration: policies, block parameters, observers. */
export type ConfigChanges = Partial<Pick<ChainConfig, 'policies' | 'cutting' | 'timestampWindowMs' | 'observers'>>;
const CHANGEABLE = ['policies', 'cutting', 'timestampWindowMs', 'observers'] as const;

export interface Application {
  readonly organizationId: string;
  readonly legalName: string;
  /** Unified social credit code (统一社会信用代码), 18 characters. */
  readonly creditCode: string;
  readonly gs1CompanyPrefix?: string;
  readonly gln?: string;
  readonly role: string;
  readonly adminKeys: ReadonlyArray<{ readonly algorithm: string; readonly publicKey: string }>;
  readonly nodeKey: { readonly algorithm: 'ed25519'; readonly publicKey: string };
}

export interface Proposal {
  readonly kind: ProposalKind;
  /** The organization that joins, leaves or is expelled. */
  readonly organizationId: string;
  readonly application: Application | null;
  /** The configuration changes of a `configure` proposal (absent for the other kinds). */
  readonly changes?: ConfigChanges;
  readonly proposedBy: string;
  readonly proposedAtBlock: number;
  /** Configuration sequence the proposal was made under: a vote after another configuration change finds it stale. */
  readonly configSequence: number;
  readonly votes: Readonly<Record<string, boolean>>;
  readonly status: 'open' | 'approved' | 'rejected' | 'stale';
  readonly decidedAtBlock: number | null;
}

export const MEMBERSHIP_APPLICATION_DOMAIN = SignatureDomain.membershipApplication;
export const proposalKeyOf = (proposalId: string) => `identity/proposal/${proposalId}`;

const ROLES = ['manufacturer', 'supplier', 'logistics', 'warehouse', 'financier', 'regulator'];
const CREDIT_CODE = /^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/;

function checkApplication(ctx: ContractContext, value: unknown, proofs: unknown): Application | ContractOutcome {
  const a = value as Partial<Application> | null;
  if (!a || typeof a !== 'object') return reject('IDENTITY.INVALID', 'payload.application must be an object');
  const allowed = ['organizationId', 'legalName', 'creditCode', 'gs1CompanyPrefix', 'gln', 'role', 'adminKeys', 'nodeKey'];
  const extra = Object.keys(a).filter((k) => !allowed.includes(k));
  if (extra.length) return reject('IDENTITY.INVALID', `unexpected application field(s): ${extra.join(', ')}`);
  if (typeof a.organizationId !== 'string' || !IDENTIFIER_PATTERN.test(a.organizationId)) return reject('IDENTITY.INVALID', 'application.organizationId must be 1-64 of [a-z0-9._-]');
  if (ctx.config.members.some((m) => m.organizationId === a.organizationId)) return reject('IDENTITY.ALREADY_MEMBER', `${a.organizationId} is already a member`);
  if (typeof a.legalName !== 'string' || a.legalName.length < 1 || a.legalName.length > 200) return reject('IDENTITY.INVALID', 'application.legalName must be 1-200 characters');
  if (typeof a.creditCode !== 'string' || !CREDIT_CODE.test(a.creditCode)) return reject('IDENTITY.INVALID', 'application.creditCode must be an 18-character unified social credit code');
  if (a.gs1CompanyPrefix !== undefined && (typeof a.gs1CompanyPrefix !== 'string' || !/^\d{4,12}$/.test(a.gs1CompanyPrefix))) return reject('IDENTITY.INVALID', 'application.gs1CompanyPrefix must be 4-12 digits');
  if (a.gln !== undefined && (typeof a.gln !== 'string' || !/^\d{13}$/.test(a.gln) || !gs1CheckDigitOk(a.gln))) return reject('IDENTITY.INVALID', 'application.gln must be 13 digits with a valid GS1 check digit');
  if (typeof a.role !== 'string' || !ROLES.includes(a.role)) return reject('IDENTITY.INVALID', `application.role must be one of ${ROLES.join(', ')}`);
  const keys = a.adminKeys;
  if (!Array.isArray(keys) || keys.length < 1 || keys.length > 8) return reject('IDENTITY.INVALID', 'application.adminKeys must hold 1-8 keys');
  for (const k of [...keys, a.nodeKey]) {
    if (!k || !isSignatureAlgorithm(k.algorithm) || typeof k.publicKey !== 'string' || !/^(?:[0-9a-f]{2})+$/.test(k.publicKey) || !isValidPublicKey(k.algorithm, fromHex(k.publicKey))) {
      return reject('IDENTITY.INVALID', 'every key is { "algorithm", "publicKey": lower-case hex of a valid public key }');
    }
  }
  if (a.nodeKey?.algorithm !== 'ed25519') return reject('IDENTITY.INVALID', 'application.nodeKey must be an Ed25519 key');
  const ids = keys.map((k) => keyIdOf(k.algorithm as 'ed25519', fromHex(k.publicKey)));
  if (new Set(ids).size !== ids.length || keys.some((k, i) => keyInUse(ctx.config, ctx.state, ids[i], k.publicKey))) {
    return reject('IDENTITY.KEY_EXISTS', 'an admin key is already registered on this chain (keys are never reused)');
  }
  // Proof of possession: every admin key signs the application.
  const message = canonicalBytes(value as JsonValue);
  const list = Array.isArray(proofs) ? (proofs as Array<{ keyId?: unknown; signature?: unknown }>) : [];
  const proven = new Set(list.filter((p) => typeof p?.signature === 'string' && ids.includes(p.keyId as string)).filter((p) => {
    const k = keys[ids.indexOf(p.keyId as string)];
    return ctx.verifySignature(k.algorithm, k.publicKey, MEMBERSHIP_APPLICATION_DOMAIN, message, p.signature as string);
  }).map((p) => p.keyId));
  if (proven.size !== ids.length) return reject('IDENTITY.PROOF_MISSING', 'every admin key must sign the application (domain alliance/membership-application/v1)');
  return value as Application;
}

/**
 * `identity.membership.propose`: `{ kind: "join", application, proofs: [{ keyId, signature }] }`,
 * `{ kind: "exit" }` (by the leaving member), `{ kind: "expel", organizationId }`, or
 * `{ kind: "configure", changes: { policies?, cutting?, timestampWindowMs?, observers? } }`; by a member's admin key.
 */
export const membershipProposeContract: ContractHandler = {
  type: 'identity.membership.propose',
  configuration: false,
  execute(ctx) {
    const denied = adminOnly(ctx, 'membership proposals');
    if (denied) return denied;
    const payload = ctx.transaction.payload as Record<string, unknown>;
    const proposer = ctx.transaction.creator.organizationId;
    const kind = payload['kind'];
    let organizationId: string;
    let application: Application | null = null;
    if (kind === 'join') {
      const checked = checkApplication(ctx, payload['application'], payload['proofs']);
      if ('ok' in checked) return checked as ContractOutcome;
      application = checked;
      organizationId = checked.organizationId;
    } else if (kind === 'configure') {
      const changes = payload['changes'] as Record<string, unknown> | undefined;
      if (!changes || typeof changes !== 'object' || Array.isArray(changes) || Object.keys(changes).length === 0) return reject('IDENTITY.INVALID', `payload.changes must be an object with some of ${CHANGEABLE.join(', ')}`);
      const extra = Object.keys(changes).filter((k) => !(CHANGEABLE as readonly string[]).includes(k));
      if (extra.length) return reject('IDENTITY.INVALID', `payload.changes may change only ${CHANGEABLE.join(', ')} (not ${extra.join(', ')}); members change by join, exit and expel`);
      const problems = validateChainConfig({ ...ctx.config, ...changes });
      if (problems.length) return reject('LEDGER.CONFIG_INVALID', problems.join('; '));
      const proposal: Proposal = { kind, organizationId: proposer, application: null, changes: changes as ConfigChanges, proposedBy: proposer, proposedAtBlock: ctx.blockNumber, configSequence: ctx.config.sequence, votes: {}, status: 'open', decidedAtBlock: null };
      return { ok: true, writes: [{ key: proposalKeyOf(ctx.transactionId), value: proposal as unknown as JsonValue }] };
    } else if (kind === 'exit') {
      organizationId = proposer;
    } else if (kind === 'expel') {
      const target = payload['organizationId'];
      if (typeof target !== 'string' || !ctx.config.members.some((m) => m.organizationId === target) || target === proposer) return reject('IDENTITY.INVALID', 'payload.organizationId must be another member (use kind "exit" to leave)');
      organizationId = target;
    } else {
      return reject('IDENTITY.INVALID', 'payload.kind must be join, exit, expel or configure');
    }
    if (kind !== 'join' && ctx.config.members.length <= 1) return reject('IDENTITY.LAST_MEMBER', 'the last member cannot leave the consortium');
    const proposal: Proposal = { kind, organizationId, application, proposedBy: proposer, proposedAtBlock: ctx.blockNumber, configSequence: ctx.config.sequence, votes: {}, status: 'open', decidedAtBlock: null };
    return { ok: true, writes: [{ key: proposalKeyOf(ctx.transactionId), value: proposal as unknown as JsonValue }] };
  },
};

/**
 * `identity.membership.vote`: `{ proposalId, approve: boolean }` by a member's admin key, one vote per member.
 * A configuration transaction: the deciding vote writes the new configuration (sequence + 1).
 */
export const membershipVoteContract: ContractHandler = {
  type: 'identity.membership.vote',
  configuration: true,
  execute(ctx) {
    const denied = adminOnly(ctx, 'votes');
    if (denied) return denied;
    const { proposalId, approve } = ctx.transaction.payload as { proposalId?: unknown; approve?: unknown };
    if (typeof proposalId !== 'string' || typeof approve !== 'boolean') return reject('IDENTITY.INVALID', 'payload is { "proposalId", "approve": true | false }');
    const key = proposalKeyOf(proposalId);
    const proposal = ctx.state.get(key)?.value as Proposal | null | undefined;
    if (!proposal) return reject('IDENTITY.PROPOSAL_NOT_FOUND', `no proposal ${proposalId}`);
    if (proposal.status !== 'open') return reject('IDENTITY.PROPOSAL_CLOSED', `proposal ${proposalId} is ${proposal.status}`);
    const voter = ctx.transaction.creator.organizationId;
    if (proposal.votes[voter] !== undefined) return reject('IDENTITY.ALREADY_VOTED', `${voter} already voted on ${proposalId}`);
    if (proposal.configSequence !== ctx.config.sequence) {
      // The membership changed since: the votes were cast for another consortium.
      return { ok: true, writes: [{ key, value: { ...proposal, status: 'stale', decidedAtBlock: ctx.blockNumber } as unknown as JsonValue }] };
    }
    const votes = { ...proposal.votes, [voter]: approve };
    const members = ctx.config.members.length;
    const needed = requiredApprovals(ctx.config.policies.configuration, members);
    const yes = Object.values(votes).filter(Boolean).length;
    const no = Object.values(votes).length - yes;
    if (yes >= needed) {
      const next = nextConfig(ctx.config, proposal);
      const problems = validateChainConfig(next);
      if (problems.length) return reject('LEDGER.CONFIG_INVALID', problems.join('; '));
      return {
        ok: true,
        writes: [
          { key: CONFIG_KEY, value: next as unknown as JsonValue },
          { key, value: { ...proposal, votes, status: 'approved', decidedAtBlock: ctx.blockNumber } as unknown as JsonValue },
        ],
      };
    }
    const status = members - no < needed ? 'rejected' : 'open';
    return { ok: true, writes: [{ key, value: { ...proposal, votes, status, decidedAtBlock: status === 'open' ? null : ctx.blockNumber } as unknown as JsonValue }] };
  },
};

function nextConfig(config: ChainConfig, proposal: Proposal): ChainConfig {
  if (proposal.kind === 'configure') return { ...config, ...proposal.changes, sequence: config.sequence + 1 };
  if (proposal.kind !== 'join') return { ...config, sequence: config.sequence + 1, members: config.members.filter((m) => m.organizationId !== proposal.organizationId) };
  const a = proposal.application as Application;
  const member: MemberConfig = {
    organizationId: a.organizationId,
    role: a.role,
    nodeKey: { algorithm: 'ed25519', publicKey: a.nodeKey.publicKey },
    keys: a.adminKeys.map((k) => ({ keyId: keyIdOf(k.algorithm as 'ed25519', fromHex(k.publicKey)), algorithm: k.algorithm, publicKey: k.publicKey })),
  };
  return { ...config, sequence: config.sequence + 1, members: [...config.members, member] };
}

export const membershipContracts: readonly ContractHandler[] = [membershipProposeContract, membershipVoteContract];
