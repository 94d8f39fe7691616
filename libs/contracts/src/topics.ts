import { z } from 'zod';
import { contractSchemas } from './envelope';

/**
 * The one place topic names and payload types are written.
 * Names follow `<scope>.<aggregate>.<past-tense-verb>.v<N>`; a breaking change
 * to a payload is a new topic with the next version, never an edit.
 */
export interface TopicDefinition<T> {
  readonly name: string;
  readonly payload: z.ZodType<T>;
  readonly description: string;
}

export const TOPIC_NAME_PATTERN = /^[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*\.v[1-9][0-9]*$/;

function defineTopic<T>(name: string, payload: z.ZodType<T>, description: string): TopicDefinition<T> {
  if (!TOPIC_NAME_PATTERN.test(name)) throw new Error(`topic name "${name}" must be <scope>.<aggregate>.<past-tense-verb>.v<N>`);
  return { name, payload, description };
}

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits');
const blockNumber = z.number().int().nonnegative();

const jsonObject = z.record(z.string(), z.unknown());

/** One transaction of a committed block, decoded for read models (valid or not: `code` says). */
export const committedTransactionV1 = z.object({
  transactionId: hex32,
  leafIndex: z.number().int().nonnegative(),
  type: z.string().nullable(),
  organizationId: z.string().nullable(),
  timestamp: contractSchemas.utcTimestamp.nullable(),
  code: z.string().min(1),
  payload: jsonObject.nullable(),
  writes: z.array(z.object({ key: z.string(), value: z.unknown(), version: z.number().int().positive() })),
});

export const blockCommittedV1 = z.object({
  chainId: z.string().min(1),
  nodeId: z.string().min(1),
  blockNumber,
  headerHash: hex32,
  transactionCount: z.number().int().nonnegative(),
  treeSize: z.number().int().nonnegative(),
  /** The block's timestamp from the ordering log. */
  committedAt: contractSchemas.utcTimestamp,
  transactions: z.array(committedTransactionV1),
});
export type BlockCommittedV1 = z.infer<typeof blockCommittedV1>;

/** A node saw a member sign another header for a block it committed, and halted. */
export const forkDetectedV1 = z.object({
  chainId: z.string().min(1),
  nodeId: z.string().min(1),
  blockNumber,
  /** The header hash this node committed for `blockNumber`. */
  committedHeaderHash: hex32,
  /** The member whose valid signature covers a different header hash. */
  signerOrganizationId: z.string().min(1),
  signedHeaderHash: hex32,
  detectedAt: contractSchemas.utcTimestamp,
});
export type ForkDetectedV1 = z.infer<typeof forkDetectedV1>;

/** Where an identity change was decided: the chain, the block and the transaction (docs/identity.md, Read model). */
const identityOrigin = {
  chainId: z.string().min(1),
  blockNumber,
  transactionId: hex32,
};

export const organizationJoinedV1 = z.object({ ...identityOrigin, organizationId: z.string().min(1), role: z.string().min(1) });
export const organizationLeftV1 = z.object({ ...identityOrigin, organizationId: z.string().min(1), reason: z.enum(['exit', 'expel', 'configuration']) });
export const agentRegisteredV1 = z.object({ ...identityOrigin, organizationId: z.string().min(1), agentId: z.string().min(1) });
/** A key ended: from `blockNumber` on it signs nothing valid (rotated or revoked). */
export const keyEndedV1 = z.object({ ...identityOrigin, organizationId: z.string().min(1), agentId: z.string().min(1), keyId: z.string().min(1) });
export const deviceRegisteredV1 = z.object({ ...identityOrigin, organizationId: z.string().min(1), deviceId: z.string().min(1) });
export const deviceStatusChangedV1 = z.object({
  ...identityOrigin,
  organizationId: z.string().min(1),
  deviceId: z.string().min(1),
  from: z.enum(['active', 'suspended', 'retired']),
  to: z.enum(['active', 'suspended', 'retired']),
  reason: z.string().nullable(),
});
export const proposalOpenedV1 = z.object({ ...identityOrigin, proposalId: hex32, kind: z.enum(['join', 'exit', 'expel', 'configure']), organizationId: z.string().min(1) });
export const proposalDecidedV1 = proposalOpenedV1.extend({ status: z.enum(['approved', 'rejected', 'stale']) });

/**
 * A sensor threshold rule was breached (docs/provenance.md, Sensor data and
 * threshold alerts): the alert as the read model derived it when it first
 * appeared, and the EPCIS event that set the rule's persistent disposition.
 * Decimal values are strings, never floats.
 */
const decimalText = z.string().regex(/^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/, 'must be a decimal string');
export const alertRaisedV1 = z.object({
  chainId: z.string().min(1),
  blockNumber,
  /** The `provenance.sensor.readings` transaction whose batch completed the breach. */
  transactionId: hex32,
  batchId: z.string().min(1),
  alertId: hex32,
  organizationId: z.string().min(1),
  ruleId: z.string().min(1),
  ruleVersion: z.number().int().positive(),
  subject: z.string().min(1),
  measurementType: z.string().min(1),
  uom: z.string().min(1),
  min: decimalText.nullable(),
  max: decimalText.nullable(),
  from: contractSchemas.utcTimestamp,
  to: contractSchemas.utcTimestamp,
  durationSeconds: z.number().int().nonnegative(),
  worstValue: decimalText,
  disposition: z.string().min(1),
  /** The derived EPCIS event (its CBV 2.0 hash ID) that sets `disposition` on the subject. */
  eventId: z.string().min(1),
});
export type AlertRaisedV1 = z.infer<typeof alertRaisedV1>;

/**
 * An organization's stock on hand of an item changed (docs/provenance.md, Stock
 * on hand): derived by the provenance read model from the EPCIS events of a
 * committed block. Quantities are exact decimal text; `uom` is null for an
 * instance key (a count of 1 or 0).
 */
export const stockChangedV1 = z.object({
  chainId: z.string().min(1),
  blockNumber,
  item: z.string().min(1),
  organizationId: z.string().min(1),
  uom: z.string().min(1).nullable(),
  onHand: decimalText,
  /** The level before this block; null the first time the organization held the item. */
  previousOnHand: decimalText.nullable(),
  /** The event whose effect made the level. */
  eventId: z.string().min(1),
});
export type StockChangedV1 = z.infer<typeof stockChangedV1>;

/**
 * A finance asset record changed (docs/finance.md, The finance service): one
 * event per write of a `finance/<kind>/<id>` record by a committed
 * transaction, with the status before and after it (null for records without
 * one: payments, documents) and the record as written. Amounts are strings of
 * minor units, never floats.
 */
export const financeRecordChangedV1 = z.object({
  chainId: z.string().min(1),
  blockNumber,
  transactionId: hex32,
  transactionType: z.string().min(1),
  /** The world-state key written (`finance/receivable/<id>`, `finance/document/<docType>/<hash>` …). */
  key: z.string().regex(/^finance\/[a-z-]+\/.+$/, 'must be a finance/<kind>/<id> key'),
  /** The record's id within its kind (the key after `finance/<kind>/`). */
  id: z.string().min(1),
  previousStatus: z.string().nullable(),
  status: z.string().nullable(),
  record: jsonObject.nullable(),
});
export type FinanceRecordChangedV1 = z.infer<typeof financeRecordChangedV1>;

export const Topics = {
  ledgerBlockCommitted: defineTopic('ledger.block.committed.v1', blockCommittedV1, 'A ledger node committed a block to its PostgreSQL.'),
  ledgerForkDetected: defineTopic('ledger.fork.detected.v1', forkDetectedV1, 'A ledger node found two header hashes for one block number and halted.'),
  identityOrganizationJoined: defineTopic('identity.organization.joined.v1', organizationJoinedV1, 'An organization became a member (genesis or an approved application).'),
  identityOrganizationLeft: defineTopic('identity.organization.left.v1', organizationLeftV1, 'An organization left the consortium (exit, expulsion or a configuration update); nothing it signs from that block on is valid.'),
  identityAgentRegistered: defineTopic('identity.agent.registered.v1', agentRegisteredV1, 'An organization registered an agent.'),
  identityKeyRotated: defineTopic('identity.key.rotated.v1', keyEndedV1, 'An agent key was rotated: it signs nothing valid from that block on.'),
  identityKeyRevoked: defineTopic('identity.key.revoked.v1', keyEndedV1, 'An agent key was revoked: it signs nothing valid from that block on; its sessions end.'),
  identityDeviceRegistered: defineTopic('identity.device.registered.v1', deviceRegisteredV1, 'An organization registered a device.'),
  identityDeviceStatusChanged: defineTopic('identity.device.status-changed.v1', deviceStatusChangedV1, 'A device was suspended, reactivated or retired.'),
  identityProposalOpened: defineTopic('identity.proposal.opened.v1', proposalOpenedV1, 'A member proposed that an organization join, exit or be expelled.'),
  identityProposalDecided: defineTopic('identity.proposal.decided.v1', proposalDecidedV1, 'A membership proposal was approved, rejected or went stale.'),
  provenanceAlertRaised: defineTopic('provenance.alert.raised.v1', alertRaisedV1, 'A sensor threshold rule was breached: the alert and the event setting its persistent disposition on the subject.'),
  provenanceStockChanged: defineTopic('provenance.stock.changed.v1', stockChangedV1, 'An organization’s stock on hand of an item changed, as the EPCIS events of a committed block move it.'),
  financeReceivableChanged: defineTopic('finance.receivable.changed.v1', financeRecordChangedV1, 'A receivable certificate was issued or changed (confirmed, transferred, split, encumbered, repaid, frozen …).'),
  financeFinancingChanged: defineTopic('finance.financing.changed.v1', financeRecordChangedV1, 'A financing was applied for or changed (approved, rejected, withdrawn, disbursed, repaid, released, recourse).'),
  financeCreditLineChanged: defineTopic('finance.credit-line.changed.v1', financeRecordChangedV1, 'A credit line was granted or changed (limit, status, use).'),
  financePaymentChanged: defineTopic('finance.payment.changed.v1', financeRecordChangedV1, 'A repayment was recorded with its allocations to holders and financiers.'),
  financeWarehouseReceiptChanged: defineTopic('finance.warehouse-receipt.changed.v1', financeRecordChangedV1, 'A warehouse receipt was issued or changed (pledged, released, split, merged, frozen, delivered …).'),
  financeLeaseChanged: defineTopic('finance.lease.changed.v1', financeRecordChangedV1, 'An equipment lease was created or changed (payments, overdue, repossession, completion, refinancing …).'),
  financeLeasePaymentChanged: defineTopic('finance.lease-payment.changed.v1', financeRecordChangedV1, 'A lessee paid lease installments (the allocation over the schedule).'),
  financeDocumentChanged: defineTopic('finance.document.changed.v1', financeRecordChangedV1, 'An underlying document (purchase order, invoice, delivery …) was first referenced or its backing changed.'),
} as const;

export type TopicKey = keyof typeof Topics;
export type PayloadOf<D> = D extends TopicDefinition<infer T> ? T : never;

/** Poison messages of `topic` go to `<topic>.dlq`; the suffix keeps them beside their source. */
export function deadLetterTopicOf(topic: string): string {
  return `${topic}.dlq`;
}

export function findTopic(name: string): TopicDefinition<unknown> | undefined {
  return Object.values(Topics).find((t) => t.name === name) as TopicDefinition<unknown> | undefined;
}
