import { Inject } from '@nestjs/common';
import { Args, Context, Field, Int, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { RequirePermission } from '@alliance/shared/feature-platform';
import { AUDIT_READ } from './access-log';
import {
  agentIdOf,
  DEVICE_STATUSES,
  deviceIdOf,
  intOf,
  itemOf,
  keyIdOf,
  oneOf,
  optionalOrganizationIdOf,
  organizationIdOf,
  receivableIdOf,
  TRACE_DIRECTIONS,
  windowOf,
} from './look-through-params';
import { LOOK_THROUGH, type LookThrough } from './look-through-views';
import { authorizationOf, type GraphqlRequestContext } from './upstream';

/*
 * The look-through views in the audit subgraph (docs/audit.md, Look-through
 * views): Query fields only, the same LookThrough behind REST and GraphQL, so
 * both give the same figures and codes (extensions.code AUDIT.INVALID_QUERY,
 * or the upstream's own: IDENTITY.ORGANIZATION_NOT_FOUND, FINANCE.NOT_FOUND,
 * PROVENANCE.INVALID_IDENTIFIER …). Records an auditor reads whole (an
 * agent's or device's versions) come as `json` text. Amounts are strings of
 * integer minor units.
 */

type Json = Record<string, unknown>;
const MINOR = { description: 'Integer minor units of the currency, as a decimal string' };
const opt = { nullable: true };

@ObjectType('AuditPublicKey')
class PublicKeyType {
  @Field(() => String, opt) keyId!: string | null;
  @Field() algorithm!: string;
  @Field() publicKey!: string;
}

@ObjectType('AuditOrganization', { description: 'An organization as identity holds it: membership, application, keys' })
class OrganizationType {
  @Field() organizationId!: string;
  @Field() role!: string;
  @Field({ description: 'member, departed or observer' }) status!: string;
  @Field(() => Int) joinedAtBlock!: number;
  @Field(() => Int, opt) leftAtBlock!: number | null;
  @Field(() => String, opt) leftReason!: string | null;
  @Field(() => String, opt) legalName!: string | null;
  @Field(() => String, opt) creditCode!: string | null;
  @Field(() => String, opt) gs1CompanyPrefix!: string | null;
  @Field(() => String, opt) gln!: string | null;
  @Field(() => PublicKeyType, opt) nodeKey!: PublicKeyType | null;
  @Field(() => [PublicKeyType]) adminKeys!: PublicKeyType[];
}

@ObjectType('AuditOrganizationList')
class OrganizationListType {
  @Field(() => [OrganizationType]) items!: OrganizationType[];
  @Field(() => Int) recordCount!: number;
}

@ObjectType('AuditRecordVersion', { description: 'One version of a record (agent, device), with the block and transaction that wrote it' })
class RecordVersionType {
  @Field(() => Int) version!: number;
  @Field(() => Int) blockNumber!: number;
  @Field() transactionId!: string;
  @Field(() => String, opt) transactionType!: string | null;
  @Field({ description: 'The record as written, JSON text' }) json!: string;
}

@ObjectType('AuditAgentKey')
class AgentKeyType {
  @Field() keyId!: string;
  @Field() algorithm!: string;
  @Field() publicKey!: string;
  @Field({ description: 'active, rotated or revoked' }) status!: string;
  @Field(() => Int) addedAtBlock!: number;
  @Field(() => Int, opt) endedAtBlock!: number | null;
}

@ObjectType('AuditAgent')
class AgentType {
  @Field() organizationId!: string;
  @Field() agentId!: string;
  @Field() name!: string;
  @Field(() => [String]) roles!: string[];
  @Field(() => [String]) permissions!: string[];
  @Field(() => [AgentKeyType]) keys!: AgentKeyType[];
  @Field(() => [RecordVersionType], { description: 'Key history: every version of the agent’s record, oldest first' }) history!: RecordVersionType[];
}

@ObjectType('AuditDevice')
class DeviceType {
  @Field() organizationId!: string;
  @Field() deviceId!: string;
  @Field() model!: string;
  @Field(() => PublicKeyType) key!: PublicKeyType;
  @Field() status!: string;
  @Field(() => [String]) assets!: string[];
  @Field(() => [String]) locations!: string[];
  @Field(() => Int) registeredAtBlock!: number;
  @Field(() => Int) statusChangedAtBlock!: number;
  @Field(() => String, opt) statusReason!: string | null;
}

@ObjectType('AuditVote')
class VoteType {
  @Field() organizationId!: string;
  @Field() approve!: boolean;
}

@ObjectType('AuditProposal', { description: 'A membership proposal and its votes' })
class ProposalType {
  @Field() proposalId!: string;
  @Field({ description: 'join, exit, expel or configure' }) kind!: string;
  @Field() organizationId!: string;
  @Field() proposedBy!: string;
  @Field(() => Int) proposedAtBlock!: number;
  @Field() status!: string;
  @Field(() => Int, opt) decidedAtBlock!: number | null;
  @Field(() => [VoteType]) votes!: VoteType[];
  @Field(() => [String], { description: 'How it concerns the organization asked for: subject, proposer, voter' }) relation!: string[];
}

@ObjectType('AuditOrganizationRegister')
class OrganizationRegisterType {
  @Field(() => OrganizationType) organization!: OrganizationType;
  @Field(() => [AgentType]) agents!: AgentType[];
  @Field(() => [DeviceType]) devices!: DeviceType[];
  @Field(() => [ProposalType]) proposals!: ProposalType[];
  @Field(() => Int) recordCount!: number;
}

@ObjectType('AuditDevicePage')
class DevicePageType {
  @Field(() => [DeviceType]) items!: DeviceType[];
  @Field(() => String, { nullable: true, description: 'Pass as `after` for the next page' }) nextAfter!: string | null;
}

@ObjectType('AuditDeviceRegister')
class DeviceRegisterType {
  @Field(() => DeviceType) device!: DeviceType;
  @Field(() => [RecordVersionType]) history!: RecordVersionType[];
  @Field(() => Int) recordCount!: number;
}

@ObjectType('AuditKeyOwner')
class KeyOwnerType {
  @Field() keyId!: string;
  @Field({ description: 'admin, node, agent or device' }) kind!: string;
  @Field() organizationId!: string;
  @Field(() => String, opt) agentId!: string | null;
  @Field(() => String, opt) deviceId!: string | null;
  @Field() algorithm!: string;
  @Field() publicKey!: string;
  @Field() status!: string;
  @Field(() => Int, opt) addedAtBlock!: number | null;
  @Field(() => Int, opt) endedAtBlock!: number | null;
}

@ObjectType('AuditKeyRegister')
class KeyRegisterType {
  @Field(() => KeyOwnerType) key!: KeyOwnerType;
  @Field(() => [RecordVersionType]) history!: RecordVersionType[];
  @Field(() => Int) recordCount!: number;
}

@ObjectType('AuditCheckpoint', { description: 'The observer node’s newest checkpoint the proofs were verified against' })
class CheckpointType {
  @Field(() => Int) blockNumber!: number;
  @Field(() => Int) treeSize!: number;
  @Field() rootHash!: string;
  @Field() verified!: boolean;
  @Field(() => String, opt) reason!: string | null;
  @Field(() => [String]) signedBy!: string[];
}

@ObjectType('AuditProofCheck', { description: 'A receipt verified against the observer node: verified, or the first check that failed' })
class ProofCheckType {
  @Field() verified!: boolean;
  @Field(() => String, opt) reason!: string | null;
  @Field(() => String, opt) transactionId!: string | null;
  @Field(() => Int, opt) blockNumber!: number | null;
  @Field(() => Int, opt) leafIndex!: number | null;
  @Field(() => String, opt) headerHash!: string | null;
}

@ObjectType('AuditTraceNode')
class TraceNodeType {
  @Field() id!: string;
  @Field() kind!: string;
  @Field(() => Int) depth!: number;
}

@ObjectType('AuditTraceEdge')
class TraceEdgeType {
  @Field() from!: string;
  @Field() to!: string;
  @Field() kind!: string;
  @Field() eventID!: string;
  @Field() eventTime!: string;
}

@ObjectType('AuditTraceEvent', { description: 'An event on the trace’s paths with its anchoring transaction and verified proof' })
class TraceEventType {
  @Field() eventID!: string;
  @Field() type!: string;
  @Field() eventTime!: string;
  @Field(() => String, opt) bizStep!: string | null;
  @Field(() => String, { nullable: true, description: 'capture, or what it was derived from' }) origin!: string | null;
  @Field(() => Boolean, opt) hashVerified!: boolean | null;
  @Field(() => String, opt) transactionId!: string | null;
  @Field(() => Int, opt) blockNumber!: number | null;
  @Field(() => Int, opt) leafIndex!: number | null;
  @Field(() => Int, opt) position!: number | null;
  @Field() verified!: boolean;
  @Field(() => String, opt) reason!: string | null;
}

@ObjectType('AuditTrace')
class TraceType {
  @Field() root!: string;
  @Field(() => [String]) seeds!: string[];
  @Field() direction!: string;
  @Field(() => Int) depth!: number;
  @Field(() => [TraceNodeType]) nodes!: TraceNodeType[];
  @Field(() => [TraceEdgeType]) edges!: TraceEdgeType[];
  @Field(() => [TraceEventType]) events!: TraceEventType[];
  @Field() truncated!: boolean;
  @Field(() => CheckpointType) checkpoint!: CheckpointType;
  @Field(() => Int) verifiedEvents!: number;
  @Field(() => Int) recordCount!: number;
}

@ObjectType('AuditEncumbrance')
class EncumbranceType {
  @Field() kind!: string;
  @Field() financingId!: string;
  @Field() financier!: string;
  @Field(() => Int, opt) sinceBlock!: number | null;
}

@ObjectType('AuditFreeze')
class FreezeType {
  @Field() by!: string;
  @Field() reason!: string;
  @Field(() => String, opt) orderReference!: string | null;
  @Field(() => Int, opt) atBlock!: number | null;
  @Field(() => String, opt) at!: string | null;
}

@ObjectType('AuditFinancing', { description: 'A financing applied for on a node, with its terms and what the financier collected' })
class FinancingType {
  @Field() financingId!: string;
  @Field() kind!: string;
  @Field() applicant!: string;
  @Field() financier!: string;
  @Field() recourse!: boolean;
  @Field() currency!: string;
  @Field(MINOR) principal!: string;
  @Field(() => Int, opt) rateBps!: number | null;
  @Field(() => String, opt) dayCount!: string | null;
  @Field(() => String, { ...MINOR, nullable: true }) feeMinor!: string | null;
  @Field(() => String, { ...MINOR, nullable: true }) discount!: string | null;
  @Field(() => String, { ...MINOR, nullable: true }) interest!: string | null;
  @Field(() => String, { ...MINOR, nullable: true }) disbursedAmount!: string | null;
  @Field(() => Int, opt) days!: number | null;
  @Field() status!: string;
  @Field(MINOR) collected!: string;
  @Field() lastTransactionId!: string;
  @Field(() => ProofCheckType) proof!: ProofCheckType;
}

@ObjectType('AuditTreeNode', { description: 'A receivable of the tree with its financings and its last transaction’s verified receipt' })
class TreeNodeType {
  @Field() receivableId!: string;
  @Field(() => String, opt) parentId!: string | null;
  @Field(() => [String]) children!: string[];
  @Field(() => Int) depth!: number;
  @Field() issuer!: string;
  @Field() debtor!: string;
  @Field() holder!: string;
  @Field() currency!: string;
  @Field(MINOR) faceValue!: string;
  @Field(MINOR) paidAmount!: string;
  @Field(MINOR) outstanding!: string;
  @Field() dueDate!: string;
  @Field() status!: string;
  @Field(() => String, { nullable: true, description: 'The credit line it was confirmed on' }) creditLineId!: string | null;
  @Field(() => EncumbranceType, opt) encumbrance!: EncumbranceType | null;
  @Field(() => FreezeType, opt) frozen!: FreezeType | null;
  @Field() lastTransactionId!: string;
  @Field(() => [FinancingType]) financings!: FinancingType[];
  @Field(() => ProofCheckType) proof!: ProofCheckType;
}

@ObjectType('AuditTreeEdge')
class TreeEdgeType {
  @Field() from!: string;
  @Field() to!: string;
}

@ObjectType('AuditAllocation')
class AllocationType {
  @Field() receivableId!: string;
  @Field() payee!: string;
  @Field(MINOR) amount!: string;
  @Field(() => String, opt) financingId!: string | null;
}

@ObjectType('AuditPayment')
class PaymentType {
  @Field() paymentId!: string;
  @Field() currency!: string;
  @Field(MINOR) amount!: string;
  @Field(() => String, opt) paymentReference!: string | null;
  @Field(() => Int, opt) atBlock!: number | null;
  @Field(() => String, opt) at!: string | null;
  @Field(() => [AllocationType]) allocations!: AllocationType[];
  @Field() lastTransactionId!: string;
  @Field(() => ProofCheckType) proof!: ProofCheckType;
}

@ObjectType('AuditReceivableTree')
class ReceivableTreeType {
  @Field() rootId!: string;
  @Field() receivableId!: string;
  @Field() currency!: string;
  @Field() debtor!: string;
  @Field() issuer!: string;
  @Field() dueDate!: string;
  @Field(MINOR) faceValue!: string;
  @Field(MINOR) paid!: string;
  @Field(MINOR) outstanding!: string;
  @Field(MINOR) financed!: string;
  @Field(() => [TreeNodeType]) nodes!: TreeNodeType[];
  @Field(() => [TreeEdgeType]) edges!: TreeEdgeType[];
  @Field(() => [PaymentType]) payments!: PaymentType[];
  @Field(() => Int) asOfBlock!: number;
  @Field(() => CheckpointType) checkpoint!: CheckpointType;
  @Field(() => Int) verifiedRecords!: number;
  @Field(() => Int) checkedRecords!: number;
  @Field(() => Int) recordCount!: number;
}

@ObjectType('AuditDebtorFinancier')
class DebtorFinancierType {
  @Field() financier!: string;
  @Field(() => Int) receivables!: number;
  @Field(MINOR) financed!: string;
  @Field(MINOR) principal!: string;
  @Field(MINOR) disbursed!: string;
  @Field(() => Int) creditLines!: number;
  @Field(MINOR) creditLimit!: string;
  @Field(MINOR) creditUsed!: string;
}

@ObjectType('AuditDebtorExposureRow')
class DebtorExposureRowType {
  @Field() debtor!: string;
  @Field() currency!: string;
  @Field(() => Int) receivables!: number;
  @Field(MINOR) outstanding!: string;
  @Field(MINOR) overdue!: string;
  @Field(MINOR) defaulted!: string;
  @Field(MINOR) frozen!: string;
  @Field(MINOR) financed!: string;
  @Field(() => Int) creditLines!: number;
  @Field(MINOR) creditLimit!: string;
  @Field(MINOR) creditUsed!: string;
  @Field(() => [DebtorFinancierType]) financiers!: DebtorFinancierType[];
}

@ObjectType('AuditDebtorExposure')
class DebtorExposureType {
  @Field() debtor!: string;
  @Field(() => Int, opt) asOfBlock!: number | null;
  @Field(() => [DebtorExposureRowType], { description: 'One per currency' }) items!: DebtorExposureRowType[];
}

@ObjectType('AuditFinancierDebtor')
class FinancierDebtorType {
  @Field() debtor!: string;
  @Field(() => Int) financings!: number;
  @Field(MINOR) principal!: string;
  @Field(MINOR) disbursed!: string;
  @Field(MINOR) collected!: string;
  @Field(MINOR) recourse!: string;
  @Field(() => Int) creditLines!: number;
  @Field(MINOR) creditLimit!: string;
  @Field(MINOR) creditUsed!: string;
}

@ObjectType('AuditFinancierExposureRow')
class FinancierExposureRowType {
  @Field() financier!: string;
  @Field() currency!: string;
  @Field(() => Int) financings!: number;
  @Field(MINOR) principal!: string;
  @Field(MINOR) disbursed!: string;
  @Field(MINOR) collected!: string;
  @Field(MINOR) recourse!: string;
  @Field(() => Int) creditLines!: number;
  @Field(MINOR) creditLimit!: string;
  @Field(MINOR) creditUsed!: string;
  @Field(() => [FinancierDebtorType]) debtors!: FinancierDebtorType[];
}

@ObjectType('AuditFinancierExposure')
class FinancierExposureType {
  @Field() financier!: string;
  @Field(() => Int, opt) asOfBlock!: number | null;
  @Field(() => [FinancierExposureRowType], { description: 'One per currency' }) items!: FinancierExposureRowType[];
}

@ObjectType('AuditTermsBucket')
class TermsBucketType {
  @Field(() => Int) count!: number;
  @Field({ ...MINOR, description: 'Σ face value, integer minor units' }) amount!: string;
}

@ObjectType('AuditTermsLate')
class TermsLateBucketType extends TermsBucketType {
  @Field(() => Int, opt) maxDaysLate!: number | null;
  @Field(() => String, { nullable: true, description: 'Exact mean: an integer or a reduced fraction "n/d"' }) averageDaysLate!: string | null;
}

@ObjectType('AuditTermsOutstanding')
class TermsOutstandingType {
  @Field(() => Int) count!: number;
  @Field({ ...MINOR, description: 'Σ (face value − paid), integer minor units' }) outstanding!: string;
}

@ObjectType('AuditTermsOverdue')
class TermsOverdueType extends TermsOutstandingType {
  @Field(() => Int, opt) maxDaysOverdue!: number | null;
}

@ObjectType('AuditLateReceivable')
class LateReceivableType {
  @Field() receivableId!: string;
  @Field() rootId!: string;
  @Field() holder!: string;
  @Field({ description: 'paid-late, overdue or defaulted' }) state!: string;
  @Field() dueDate!: string;
  @Field(MINOR) faceValue!: string;
  @Field(() => String, opt) paidOn!: string | null;
  @Field(() => String, opt) paymentId!: string | null;
  @Field(() => Int) daysLate!: number;
  @Field(MINOR) outstanding!: string;
}

@ObjectType('AuditPaymentTermsRow')
class PaymentTermsRowType {
  @Field() debtor!: string;
  @Field() currency!: string;
  @Field(() => TermsBucketType) due!: TermsBucketType;
  @Field(() => TermsBucketType) paidOnTime!: TermsBucketType;
  @Field(() => TermsLateBucketType) paidLate!: TermsLateBucketType;
  @Field(() => TermsBucketType) paidUndated!: TermsBucketType;
  @Field(() => TermsOverdueType) overdue!: TermsOverdueType;
  @Field(() => TermsOutstandingType) defaulted!: TermsOutstandingType;
  @Field(() => TermsOutstandingType) notYetDue!: TermsOutstandingType;
  @Field(() => [LateReceivableType]) late!: LateReceivableType[];
}

@ObjectType('AuditPaymentTerms')
class PaymentTermsType {
  @Field(() => String, opt) debtor!: string | null;
  @Field() from!: string;
  @Field() to!: string;
  @Field({ description: 'The UTC date overdue is judged at (today)' }) asOf!: string;
  @Field(() => [PaymentTermsRowType]) items!: PaymentTermsRowType[];
}

const version = (v: Json) => ({ ...v, json: JSON.stringify(v['agent'] ?? v['device'] ?? null) });
const nul = <T,>(v: T | null | undefined) => (v === null || v === undefined ? undefined : v);

@Resolver()
export class LookThroughResolver {
  constructor(@Inject(LOOK_THROUGH) private readonly views: LookThrough) {}

  @Query(() => OrganizationListType, { name: 'auditOrganizations', description: 'The entity register: every organization that has been a member or observer' })
  @RequirePermission(AUDIT_READ)
  auditOrganizations(@Context() ctx: GraphqlRequestContext, @Args('atBlock', { type: () => Int, nullable: true }) atBlock?: number | null) {
    return this.views.organizations(authorizationOf(ctx), intOf(nul(atBlock), 'atBlock', 0, 999_999_999));
  }

  @Query(() => OrganizationRegisterType, { name: 'auditOrganization', description: 'One organization with its agents (and key history), devices and the membership proposals and votes that concern it' })
  @RequirePermission(AUDIT_READ)
  async auditOrganization(@Context() ctx: GraphqlRequestContext, @Args('organizationId') organizationId: string, @Args('atBlock', { type: () => Int, nullable: true }) atBlock?: number | null) {
    const r = await this.views.organization(authorizationOf(ctx), organizationIdOf(organizationId), intOf(nul(atBlock), 'atBlock', 0, 999_999_999));
    return {
      ...r,
      agents: r.agents.map((a) => ({ ...a, history: a.history.map(version) })),
      proposals: r.proposals.map((p) => ({ ...p, votes: Object.entries(p.votes ?? {}).map(([organizationId, approve]) => ({ organizationId, approve })) })),
    };
  }

  @Query(() => DevicePageType, { name: 'auditDevices', description: 'Registered devices in id order; `after` the last page’s nextAfter, `limit` 1-500' })
  @RequirePermission(AUDIT_READ)
  auditDevices(
    @Context() ctx: GraphqlRequestContext,
    @Args('organizationId', { type: () => String, nullable: true }) organizationId?: string | null,
    @Args('status', { type: () => String, nullable: true }) status?: string | null,
    @Args('after', { type: () => String, nullable: true }) after?: string | null,
    @Args('limit', { type: () => Int, nullable: true }) limit?: number | null,
  ) {
    return this.views.devices(authorizationOf(ctx), {
      organizationId: optionalOrganizationIdOf(nul(organizationId), 'organizationId'),
      status: oneOf(nul(status), DEVICE_STATUSES, 'status'),
      after: after ? deviceIdOf(after) : undefined,
      limit: intOf(nul(limit), 'limit', 1, 500),
    });
  }

  @Query(() => DeviceRegisterType, { name: 'auditDevice', description: 'One device with every change of it' })
  @RequirePermission(AUDIT_READ)
  async auditDevice(@Context() ctx: GraphqlRequestContext, @Args('deviceId') deviceId: string) {
    const r = await this.views.device(authorizationOf(ctx), deviceIdOf(deviceId));
    return { ...r, history: r.history.map(version) };
  }

  @Query(() => KeyRegisterType, { name: 'auditKey', description: 'Who holds a key, its status, and its holder’s record history' })
  @RequirePermission(AUDIT_READ)
  async auditKey(@Context() ctx: GraphqlRequestContext, @Args('keyId') keyId: string) {
    const r = await this.views.key(authorizationOf(ctx), keyIdOf(keyId));
    return { ...r, history: r.history.map(version) };
  }

  @Query(() => [RecordVersionType], { name: 'auditAgentHistory', description: 'Every version of an agent’s record: its key history' })
  @RequirePermission(AUDIT_READ)
  async auditAgentHistory(@Context() ctx: GraphqlRequestContext, @Args('organizationId') organizationId: string, @Args('agentId') agentId: string) {
    return (await this.views.agentHistory(authorizationOf(ctx), organizationIdOf(organizationId), agentIdOf(agentId))).items.map(version);
  }

  @Query(() => TraceType, { name: 'auditTrace', description: 'The trace of an item with each event’s anchoring transaction and its proof verified against the observer node' })
  @RequirePermission(AUDIT_READ)
  auditTrace(
    @Context() ctx: GraphqlRequestContext,
    @Args('item') item: string,
    @Args('direction', { type: () => String, nullable: true }) direction?: string | null,
    @Args('depth', { type: () => Int, nullable: true }) depth?: number | null,
    @Args('maxNodes', { type: () => Int, nullable: true }) maxNodes?: number | null,
  ) {
    return this.views.trace(authorizationOf(ctx), {
      item: itemOf(item),
      direction: oneOf(nul(direction), TRACE_DIRECTIONS, 'direction') ?? 'both',
      depth: intOf(nul(depth), 'depth', 1, 50),
      maxNodes: intOf(nul(maxNodes), 'maxNodes', 1, 100_000),
    });
  }

  @Query(() => ReceivableTreeType, { name: 'auditReceivableTree', description: 'The whole tree of a receivable with every record’s last receipt verified against the observer node' })
  @RequirePermission(AUDIT_READ)
  auditReceivableTree(@Context() ctx: GraphqlRequestContext, @Args('receivableId') receivableId: string) {
    return this.views.receivableTree(authorizationOf(ctx), receivableIdOf(receivableId));
  }

  @Query(() => DebtorExposureType, { name: 'auditDebtorExposure', description: 'A debtor’s exposure per currency, as finance answers it' })
  @RequirePermission(AUDIT_READ)
  auditDebtorExposure(@Context() ctx: GraphqlRequestContext, @Args('organizationId') organizationId: string) {
    return this.views.debtorExposure(authorizationOf(ctx), organizationIdOf(organizationId));
  }

  @Query(() => FinancierExposureType, { name: 'auditFinancierExposure', description: 'A financier’s exposure per currency, as finance answers it' })
  @RequirePermission(AUDIT_READ)
  auditFinancierExposure(@Context() ctx: GraphqlRequestContext, @Args('organizationId') organizationId: string) {
    return this.views.financierExposure(authorizationOf(ctx), organizationIdOf(organizationId));
  }

  @Query(() => PaymentTermsType, { name: 'auditPaymentTerms', description: 'Payment-term compliance per debtor and currency for receivables due from `from` to `to` (UTC dates)' })
  @RequirePermission(AUDIT_READ)
  auditPaymentTerms(@Context() ctx: GraphqlRequestContext, @Args('from') from: string, @Args('to') to: string, @Args('debtor', { type: () => String, nullable: true }) debtor?: string | null) {
    const d = optionalOrganizationIdOf(nul(debtor), 'debtor');
    return this.views.paymentTerms(authorizationOf(ctx), { ...(d ? { debtor: d } : {}), ...windowOf(from, to) });
  }
}
