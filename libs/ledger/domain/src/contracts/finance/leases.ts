import { gs1CheckDigit } from '../gs1';
import { canonicalBytes, sha256, toBase64Url, toHex, utf8 } from '@alliance/protocol';
import { reject } from '../agent-keys';
import { type CustodyItem, itemKeyOf } from '../custody';
import { type Device, findDevice } from '../devices';
import { mayActWith } from '../roles';
import type { ContractContext, ContractHandler, ContractOutcome, StateWrite } from '../types';
import { type AssetRecord, assetOf, assetWrite, type Encumbrance, type FinanceableAsset, financeInvalid, financePayloadOf, idOf, isMember, isOutcome, notFrozen, textOf, unlocked } from './assets';
import { existingAsset, newAssetFields } from './existing-asset';
import { amountField, creatorOf, currencyField, dateField, recordOf, recordWrite, todayOf } from './fields';
import { addDays, amountOf, daysBetween, toMinor } from './money';
import { documentKeyOf, leavesOf, type Receivable, receivableOf, type UnderlyingDocument } from './receivables';

/**
 * Equipment leases (issue 6, fourth part): a lessor leases a device-identified
 * asset it owns — a custody item (`…/8004/<giai>` or `…/01/<gtin>/21/<serial>`)
 * with a registered device that is the asset or is bound to it — to a lessee
 * that holds it, against a schedule of installments. The lessee pays, the
 * lessor marks the lease overdue and, after the grace period, repossesses; the
 * lease completes when every installment is paid. Refinancing turns the rent
 * still outstanding into a receivable certificate (debtor: the lessee) and
 * locks the lease. State:
 *
 *   finance/lease/<leaseId>             → Lease
 *   finance/lease-asset/<b64u(item)>    → { item, leaseId }: one open lease (proposed, active, overdue) per asset
 *   finance/lease-payment/<paymentId>   → LeasePayment
 *
 *   proposed ──accept (lessee)──→ active ──mark-overdue (lessor)──→ overdue ──repossess (lessor, ≥ 30 days)──→ repossessed
 *      └──cancel (either)──→ cancelled  │  ↖────── pay (the past-due installments) ───┘   │
 *                                       └──── pay (the last installment) ──→ completed ←──┘
 *   active ──refinance (lessor)──→ active, encumbered ──complete (the receivable settled)──→ completed
 *
 * Usage and location telemetry stay off the ledger's finance state: a leased
 * device's readings are anchored through provenance's sensor readings
 * (`provenance.sensor.readings`), and the finance service joins them to the
 * lease by its device. See docs/finance.md.
 */
export type LeaseStatus = 'proposed' | 'active' | 'overdue' | 'repossessed' | 'completed' | 'cancelled';

export interface LeaseInstallment {
  readonly dueDate: string;
  readonly amount: string;
  readonly paidAmount: string;
}

export interface LeasedAsset {
  /** The custody item: the canonical Digital Link of a GIAI or an SGTIN. */
  readonly item: string;
  /** The registered device's stored id (urn:epc:id:giai:… or did:…). */
  readonly deviceId: string;
  /** The organization that registered the device: the lessor or the lessee. */
  readonly deviceOrganization: string;
}

export interface LeaseRefinancing {
  readonly receivableId: string;
  /** The rent outstanding when refinanced: the receivable's face value. */
  readonly faceValue: string;
  /** The `contract` document the receivable rests on (`leaseDocumentHashOf`). */
  readonly documentHash: string;
  readonly atBlock: number;
}

export interface Lease extends AssetRecord {
  readonly leaseId: string;
  readonly lessor: string;
  readonly lessee: string;
  readonly asset: LeasedAsset;
  readonly currency: string;
  /** Installments in strictly increasing due order. */
  readonly schedule: readonly LeaseInstallment[];
  readonly status: LeaseStatus;
  /** The due date of the earliest unpaid past-due installment while overdue, else null. */
  readonly overdueSince: string | null;
  readonly refinancing: LeaseRefinancing | null;
  readonly acceptedAtBlock: number | null;
  /** The block that ended it (completed, repossessed, cancelled), or null. */
  readonly closedAtBlock: number | null;
  /** The reason given with a cancellation or repossession, or null. */
  readonly reason: string | null;
}

export interface LeasePayment {
  readonly paymentId: string;
  readonly leaseId: string;
  readonly lessee: string;
  readonly currency: string;
  readonly amount: string;
  /** Installments by due date, earliest first, each filled before the next. */
  readonly allocations: ReadonlyArray<{ readonly dueDate: string; readonly amount: string }>;
  readonly atBlock: number;
  readonly at: string;
}

/** The permission an agent needs for every lease transaction of its organization (admin keys need none). */
export const LEASE_MANAGE_PERMISSION = 'finance.lease.manage';
export const MAX_LEASE_INSTALLMENTS = 360;
/** Days an installment stays unpaid past its due date before the lessor may repossess. */
export const REPOSSESSION_GRACE_DAYS = 30;

export const leaseAssetKeyOf = (item: string) => `finance/lease-asset/${toBase64Url(utf8(item))}`;
export const leasePaymentKeyOf = (paymentId: string) => `finance/lease-payment/${paymentId}`;

const KIND = 'lease' as const;
const V = "(?:[A-Za-z0-9!'()*+,\\-.:;=_]|%[0-9A-F]{2})+";
const GIAI_ITEM = new RegExp(`^https://id\\.gs1\\.org/8004/(${V})$`);
const SGTIN_ITEM = new RegExp(`^https://id\\.gs1\\.org/01/(\\d{14})/21/(${V})$`);
const GIAI_URN = /^urn:epc:id:giai:(\d{6,12})\.(.+)$/;
const SGTIN_URN = /^urn:epc:id:sgtin:(\d{6,12})\.(\d{1,7})\.(.+)$/;

const leaseOf = (ctx: ContractContext, id: string) => assetOf<Lease>(ctx, KIND, id);
const custodyOf = (ctx: ContractContext, item: string) => recordOf<CustodyItem>(ctx, itemKeyOf(item));
const ok = (...writes: StateWrite[]): ContractOutcome => ({ ok: true, writes });
const freeAsset = (lease: Lease): StateWrite => ({ key: leaseAssetKeyOf(lease.asset.item), value: null });

const rentOutstanding = (lease: Lease): bigint => lease.schedule.reduce((s, i) => s + toMinor(i.amount) - toMinor(i.paidAmount), 0n);
const unpaid = (lease: Lease) => lease.schedule.filter((i) => toMinor(i.paidAmount) < toMinor(i.amount));
/** The due date of the earliest unpaid installment that is past due (due before `today`), or null. */
const pastDueSince = (lease: Lease, today: string): string | null => unpaid(lease).find((i) => i.dueDate < today)?.dueDate ?? null;
/** The last unpaid installment's due date: when the rent still outstanding is all due. */
const lastDueOf = (lease: Lease): string => (unpaid(lease).at(-1) ?? lease.schedule[lease.schedule.length - 1]).dueDate;

/**
 * The SHA-256 (hex) of the lease's terms as canonical JSON — `{ leaseId,
 * lessor, lessee, item, deviceId, currency, schedule: [{ dueDate, amount }] }`
 * (RFC 8785): the `contract` document a refinancing receivable rests on.
 * Anyone with the lease record recomputes it.
 */
export function leaseDocumentHashOf(lease: Pick<Lease, 'leaseId' | 'lessor' | 'lessee' | 'asset' | 'currency' | 'schedule'>): string {
  const terms = {
    leaseId: lease.leaseId,
    lessor: lease.lessor,
    lessee: lease.lessee,
    item: lease.asset.item,
    deviceId: lease.asset.deviceId,
    currency: lease.currency,
    schedule: lease.schedule.map((i) => ({ dueDate: i.dueDate, amount: i.amount })),
  };
  return toHex(sha256(canonicalBytes(terms)));
}

// --- the device that identifies the asset -----------------------------------

type Gs1Key = { readonly giai: string } | { readonly gtin: string; readonly serial: string };

const decodeLink = (value: string): string | undefined => {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
};
const decodeUrn = (value: string) => value.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));

/** The GS1 key of a leasable item's Digital Link, decoded; undefined for anything else. */
function keyOfItem(item: string): Gs1Key | undefined {
  const giai = GIAI_ITEM.exec(item);
  if (giai) {
    const value = decodeLink(giai[1]);
    return value === undefined ? undefined : { giai: value };
  }
  const sgtin = SGTIN_ITEM.exec(item);
  if (sgtin) {
    const serial = decodeLink(sgtin[2]);
    return serial === undefined ? undefined : { gtin: sgtin[1], serial };
  }
  return undefined;
}

/** The GS1 key of a GIAI or SGTIN EPC URN (TDS §6): the company prefix and references joined back into the element strings. */
function keyOfUrn(urn: string): Gs1Key | undefined {
  const giai = GIAI_URN.exec(urn);
  if (giai) return { giai: giai[1] + decodeUrn(giai[2]) };
  const sgtin = SGTIN_URN.exec(urn);
  if (!sgtin || sgtin[1].length + sgtin[2].length !== 13) return undefined;
  const first13 = sgtin[2][0] + sgtin[1] + sgtin[2].slice(1);
  return { gtin: first13 + gs1CheckDigit(first13), serial: decodeUrn(sgtin[3]) };
}

const sameKey = (a: Gs1Key, b: Gs1Key | undefined) =>
  b !== undefined && ('giai' in a ? 'giai' in b && a.giai === b.giai : 'gtin' in b && a.gtin === b.gtin && a.serial === b.serial);

/** Whether `device` is the asset (its GIAI is the item's) or is bound to it (the item's EPC URN is among its assets). */
export function deviceIdentifies(device: Device, item: string): boolean {
  const key = keyOfItem(item);
  if (!key) return false;
  return sameKey(key, keyOfUrn(device.deviceId)) || device.assets.some((urn) => sameKey(key, keyOfUrn(urn)));
}

// --- transactions ------------------------------------------------------------

// The common start of every transaction on one existing lease: permission, payload, the record.
function existing(ctx: ContractContext, fields: readonly string[], what: string): { payload: Record<string, unknown>; lease: Lease; org: string } | ContractOutcome {
  const found = existingAsset<Lease>(ctx, KIND, 'leaseId', LEASE_MANAGE_PERMISSION, fields, what);
  return isOutcome(found) ? found : { payload: found.payload, lease: found.record, org: found.org };
}

const notLessor = (l: Lease, org: string) => (l.lessor !== org ? reject('FINANCE.NOT_LESSOR', `only the lessor ${l.lessor} of lease ${l.leaseId} does this`) : undefined);
const notLessee = (l: Lease, org: string) => (l.lessee !== org ? reject('FINANCE.NOT_LESSEE', `only the lessee ${l.lessee} of lease ${l.leaseId} does this`) : undefined);
const notParty = (l: Lease, org: string) => (l.lessor !== org && l.lessee !== org ? reject('FINANCE.NOT_PARTY', `only the lessor ${l.lessor} or the lessee ${l.lessee} of lease ${l.leaseId} does this`) : undefined);
const notIn = (l: Lease, statuses: readonly LeaseStatus[]) =>
  statuses.includes(l.status) ? undefined : reject('FINANCE.INVALID_STATE', `lease ${l.leaseId} is ${l.status}; this needs it ${statuses.join(' or ')}`);
const refinanced = (l: Lease) =>
  l.refinancing
    ? reject('FINANCE.REFINANCED', `lease ${l.leaseId} is refinanced: its rent is receivable ${l.refinancing.receivableId}, paid and followed up through finance.receivable.repay and mark-overdue`)
    : undefined;
const frozenLease = (l: Lease) => notFrozen(l, `lease ${l.leaseId}`);

function scheduleOf(ctx: ContractContext, value: unknown): LeaseInstallment[] | ContractOutcome {
  if (!Array.isArray(value) || value.length < 1 || value.length > MAX_LEASE_INSTALLMENTS) return financeInvalid(`payload.schedule must list 1-${MAX_LEASE_INSTALLMENTS} installments { dueDate, amount }`);
  const today = todayOf(ctx);
  const out: LeaseInstallment[] = [];
  for (const [i, v] of value.entries()) {
    const entry = v as Record<string, unknown> | null;
    if (!entry || typeof entry !== 'object' || Object.keys(entry).some((k) => k !== 'dueDate' && k !== 'amount')) return financeInvalid(`payload.schedule[${i}] must be { dueDate, amount }`);
    const dueDate = dateField(entry['dueDate'], `schedule[${i}].dueDate`);
    if (isOutcome(dueDate)) return dueDate;
    const amount = amountField(entry['amount'], `schedule[${i}].amount`);
    if (isOutcome(amount)) return amount;
    if (i === 0 && dueDate <= today) return financeInvalid(`payload.schedule[0].dueDate must be after today (${today})`);
    if (i > 0 && dueDate <= out[i - 1].dueDate) return financeInvalid(`payload.schedule[${i}].dueDate must be after the installment before it (${out[i - 1].dueDate})`);
    out.push({ dueDate, amount, paidAmount: '0' });
  }
  return out;
}

/**
 * `finance.lease.propose` `{ leaseId, lessee, asset: { item, deviceId }, currency, schedule: [{ dueDate, amount }] (1-360) }`
 * by the lessor → proposed. The item is a registered custody item owned by the
 * lessor (`FINANCE.NOT_ASSET_OWNER`) and held by the lessor or the lessee
 * (`FINANCE.GOODS_NOT_IN_CUSTODY`), in no other open lease
 * (`FINANCE.ASSET_LEASED`); the device is registered, not retired, by the
 * lessor or the lessee (`FINANCE.UNKNOWN_DEVICE`), and is the asset or bound to
 * it (`FINANCE.DEVICE_NOT_BOUND`). Due dates strictly increase, the first after today.
 */
export const leaseProposeContract: ContractHandler = {
  type: 'finance.lease.propose',
  configuration: false,
  execute(ctx) {
    const denied = mayActWith(ctx, LEASE_MANAGE_PERMISSION, 'proposes its leases');
    if (denied) return denied;
    const payload = financePayloadOf(ctx, ['leaseId', 'lessee', 'asset', 'currency', 'schedule']);
    if (isOutcome(payload)) return payload;
    const leaseId = idOf(payload['leaseId'], 'leaseId');
    if (isOutcome(leaseId)) return leaseId;
    const lessor = creatorOf(ctx);
    const lessee = payload['lessee'];
    if (!isMember(ctx, lessee) || lessee === lessor) return financeInvalid('payload.lessee must be a member organization other than the lessor');
    const asset = payload['asset'] as Record<string, unknown> | null;
    if (!asset || typeof asset !== 'object' || Array.isArray(asset) || Object.keys(asset).some((k) => k !== 'item' && k !== 'deviceId')) return financeInvalid('payload.asset must be { item, deviceId }');
    const item = asset['item'];
    if (typeof item !== 'string' || item.length > 300 || !keyOfItem(item))
      return financeInvalid('payload.asset.item must be the canonical GS1 Digital Link of one asset: a GIAI (https://id.gs1.org/8004/<giai>) or an SGTIN (https://id.gs1.org/01/<gtin>/21/<serial>)');
    if (typeof asset['deviceId'] !== 'string') return financeInvalid('payload.asset.deviceId must be the id of a registered device');
    const currency = currencyField(payload['currency']);
    if (isOutcome(currency)) return currency;
    const schedule = scheduleOf(ctx, payload['schedule']);
    if (isOutcome(schedule)) return schedule;
    if (leaseOf(ctx, leaseId)) return reject('FINANCE.DUPLICATE_ID', `lease ${leaseId} already exists`);
    const custody = custodyOf(ctx, item);
    if (!custody) return reject('FINANCE.NOT_ASSET_OWNER', `${item} is not a registered custody item`);
    if (custody.owner !== lessor) return reject('FINANCE.NOT_ASSET_OWNER', `${item} is owned by ${custody.owner}; only its owner leases it`);
    if (custody.custodian !== lessor && custody.custodian !== lessee) return reject('FINANCE.GOODS_NOT_IN_CUSTODY', `${item} is in the custody of ${custody.custodian}, neither the lessor nor the lessee`);
    const device = findDevice(ctx.state, asset['deviceId']);
    if (!device || device.status === 'retired') return reject('FINANCE.UNKNOWN_DEVICE', `device ${asset['deviceId']} is ${device ? 'retired' : 'not registered'}`);
    if (device.organizationId !== lessor && device.organizationId !== lessee) return reject('FINANCE.UNKNOWN_DEVICE', `device ${device.deviceId} belongs to ${device.organizationId}, neither the lessor nor the lessee`);
    if (!deviceIdentifies(device, item)) return reject('FINANCE.DEVICE_NOT_BOUND', `device ${device.deviceId} is not ${item} and is not bound to it (identity.device.bind)`);
    const open = recordOf<{ leaseId: string }>(ctx, leaseAssetKeyOf(item));
    if (open) return reject('FINANCE.ASSET_LEASED', `${item} is in lease ${open.leaseId}`);
    const lease: Lease = {
      leaseId,
      lessor,
      lessee,
      asset: { item, deviceId: device.deviceId, deviceOrganization: device.organizationId },
      currency,
      schedule,
      status: 'proposed',
      overdueSince: null,
      refinancing: null,
      acceptedAtBlock: null,
      closedAtBlock: null,
      reason: null,
      ...newAssetFields(ctx),
    };
    return ok(assetWrite(ctx, KIND, leaseId, lease), recordWrite(leaseAssetKeyOf(item), { item, leaseId }));
  },
};

/**
 * `finance.lease.accept` `{ leaseId }` by the lessee, while proposed and not
 * frozen → active. By now the lessee holds the asset (custodian: accept the
 * lessor's custody transfer first, in the same block if need be —
 * `FINANCE.GOODS_NOT_IN_CUSTODY`) and the lessor still owns it
 * (`FINANCE.NOT_ASSET_OWNER`); no installment is due before today
 * (`FINANCE.PROPOSAL_EXPIRED`).
 */
export const leaseAcceptContract: ContractHandler = {
  type: 'finance.lease.accept',
  configuration: false,
  execute(ctx) {
    const found = existing(ctx, [], 'accepts its leases');
    if (isOutcome(found)) return found;
    const { lease, org } = found;
    const bad = notLessee(lease, org) ?? notIn(lease, ['proposed']) ?? frozenLease(lease);
    if (bad) return bad;
    const custody = custodyOf(ctx, lease.asset.item);
    if (!custody || custody.owner !== lease.lessor) return reject('FINANCE.NOT_ASSET_OWNER', `${lease.asset.item} is no longer owned by the lessor ${lease.lessor}`);
    if (custody.custodian !== lease.lessee) return reject('FINANCE.GOODS_NOT_IN_CUSTODY', `${lease.asset.item} is in the custody of ${custody.custodian}; the lessee ${lease.lessee} takes custody before it accepts`);
    const today = todayOf(ctx);
    if (lease.schedule[0].dueDate < today) return reject('FINANCE.PROPOSAL_EXPIRED', `the first installment of lease ${lease.leaseId} was due on ${lease.schedule[0].dueDate}; the lessor proposes anew`);
    return ok(assetWrite(ctx, KIND, lease.leaseId, { ...lease, status: 'active', acceptedAtBlock: ctx.blockNumber }));
  },
};

/** `finance.lease.cancel` `{ leaseId, reason? }` by the lessor or the lessee, while proposed and not frozen → cancelled; the asset may be leased again. */
export const leaseCancelContract: ContractHandler = {
  type: 'finance.lease.cancel',
  configuration: false,
  execute(ctx) {
    const found = existing(ctx, ['reason'], 'cancels its lease proposals');
    if (isOutcome(found)) return found;
    const { payload, lease, org } = found;
    const reason = textOf(payload['reason'], 'reason');
    if (isOutcome(reason)) return reason;
    const bad = notParty(lease, org) ?? notIn(lease, ['proposed']) ?? frozenLease(lease);
    if (bad) return bad;
    return ok(assetWrite(ctx, KIND, lease.leaseId, { ...lease, status: 'cancelled', reason, closedAtBlock: ctx.blockNumber }), freeAsset(lease));
  },
};

/**
 * `finance.lease.pay` `{ leaseId, paymentId, amount }` by the lessee, while
 * active or overdue, not frozen and not refinanced (`FINANCE.REFINANCED`):
 * the amount fills the unpaid installments in due order, each in full before
 * the next; more than the rent outstanding is `FINANCE.OVERPAYMENT`. The last
 * installment paid → completed; an overdue lease with nothing past due left →
 * active again (else `overdueSince` moves to the earliest installment still past due).
 */
export const leasePayContract: ContractHandler = {
  type: 'finance.lease.pay',
  configuration: false,
  execute(ctx) {
    const found = existing(ctx, ['paymentId', 'amount'], 'pays its lease installments');
    if (isOutcome(found)) return found;
    const { payload, lease, org } = found;
    const paymentId = idOf(payload['paymentId'], 'paymentId');
    if (isOutcome(paymentId)) return paymentId;
    const amount = amountField(payload['amount'], 'amount');
    if (isOutcome(amount)) return amount;
    const bad = notLessee(lease, org) ?? notIn(lease, ['active', 'overdue']) ?? frozenLease(lease) ?? refinanced(lease);
    if (bad) return bad;
    if (recordOf(ctx, leasePaymentKeyOf(paymentId))) return reject('FINANCE.DUPLICATE_ID', `lease payment ${paymentId} already exists`);
    const outstanding = rentOutstanding(lease);
    if (toMinor(amount) > outstanding) return reject('FINANCE.OVERPAYMENT', `payment ${amount} exceeds the ${outstanding} outstanding on lease ${lease.leaseId}`);
    let left = toMinor(amount);
    const allocations: Array<{ dueDate: string; amount: string }> = [];
    const schedule = lease.schedule.map((i) => {
      const open = toMinor(i.amount) - toMinor(i.paidAmount);
      const share = left < open ? left : open;
      if (share === 0n) return i;
      left -= share;
      allocations.push({ dueDate: i.dueDate, amount: amountOf(share) });
      return { ...i, paidAmount: amountOf(toMinor(i.paidAmount) + share) };
    });
    const paid: Lease = { ...lease, schedule };
    const since = pastDueSince(paid, todayOf(ctx));
    const next: Lease =
      rentOutstanding(paid) === 0n
        ? { ...paid, status: 'completed', overdueSince: null, closedAtBlock: ctx.blockNumber }
        : lease.status === 'overdue'
          ? { ...paid, status: since ? 'overdue' : 'active', overdueSince: since }
          : paid;
    const payment: LeasePayment = { paymentId, leaseId: lease.leaseId, lessee: lease.lessee, currency: lease.currency, amount, allocations, atBlock: ctx.blockNumber, at: ctx.blockTimestamp };
    const writes = [assetWrite(ctx, KIND, lease.leaseId, next), recordWrite(leasePaymentKeyOf(paymentId), payment)];
    if (next.status === 'completed') writes.push(freeAsset(lease));
    return ok(...writes);
  },
};

/**
 * `finance.lease.mark-overdue` `{ leaseId }` by the lessor, while active, not
 * frozen and not refinanced, when an installment due before today is unpaid
 * (`FINANCE.NOT_OVERDUE`) → overdue since that installment's due date.
 */
export const leaseMarkOverdueContract: ContractHandler = {
  type: 'finance.lease.mark-overdue',
  configuration: false,
  execute(ctx) {
    const found = existing(ctx, [], 'marks its leases overdue');
    if (isOutcome(found)) return found;
    const { lease, org } = found;
    const bad = notLessor(lease, org) ?? notIn(lease, ['active']) ?? frozenLease(lease) ?? refinanced(lease);
    if (bad) return bad;
    const since = pastDueSince(lease, todayOf(ctx));
    if (!since) return reject('FINANCE.NOT_OVERDUE', `no installment of lease ${lease.leaseId} due before ${todayOf(ctx)} is unpaid`);
    return ok(assetWrite(ctx, KIND, lease.leaseId, { ...lease, status: 'overdue', overdueSince: since }));
  },
};

/**
 * `finance.lease.repossess` `{ leaseId, reason? }` by the lessor, while
 * overdue for at least REPOSSESSION_GRACE_DAYS (30) days — today ≥
 * overdueSince + 30 (`FINANCE.GRACE_PERIOD`) — not frozen and unencumbered
 * (`FINANCE.ENCUMBERED`: a financier's lock, a refinancing included) →
 * repossessed. Taking the asset back is a provenance custody transfer.
 */
export const leaseRepossessContract: ContractHandler = {
  type: 'finance.lease.repossess',
  configuration: false,
  execute(ctx) {
    const found = existing(ctx, ['reason'], 'repossesses its leased assets');
    if (isOutcome(found)) return found;
    const { payload, lease, org } = found;
    const reason = textOf(payload['reason'], 'reason');
    if (isOutcome(reason)) return reason;
    const bad = notLessor(lease, org) ?? notIn(lease, ['overdue']) ?? unlocked(lease, `lease ${lease.leaseId}`);
    if (bad) return bad;
    const since = lease.overdueSince as string;
    const today = todayOf(ctx);
    if (daysBetween(since, today) < REPOSSESSION_GRACE_DAYS)
      return reject('FINANCE.GRACE_PERIOD', `lease ${lease.leaseId} is overdue since ${since}; the lessor repossesses from ${addDays(since, REPOSSESSION_GRACE_DAYS)}`);
    return ok(assetWrite(ctx, KIND, lease.leaseId, { ...lease, status: 'repossessed', reason, closedAtBlock: ctx.blockNumber }), freeAsset(lease));
  },
};

/**
 * `finance.lease.refinance` `{ leaseId, receivableId }` by the lessor, while
 * active, not frozen and unencumbered: the rent outstanding becomes receivable
 * `receivableId` — issuer and holder the lessor, debtor the lessee, face value
 * the rent outstanding, due on the last unpaid installment's date (after
 * today), confirmed (the lessee agreed to the schedule), no credit line,
 * resting on the `contract` document `leaseDocumentHashOf(lease)` for the
 * schedule's total (`FINANCE.DOCUMENT_MISMATCH`, `FINANCE.DOCUMENT_OVERCOMMITTED`
 * when a receivable was already issued against that hash) — and the lease is
 * encumbered `lease-refinancing` by it, so it is financed once: as the lease
 * or as the receivable. From then on the lessee pays through the receivable.
 */
export const leaseRefinanceContract: ContractHandler = {
  type: 'finance.lease.refinance',
  configuration: false,
  execute(ctx) {
    const found = existing(ctx, ['receivableId'], 'refinances its leases');
    if (isOutcome(found)) return found;
    const { payload, lease, org } = found;
    const receivableId = idOf(payload['receivableId'], 'receivableId');
    if (isOutcome(receivableId)) return receivableId;
    const bad = notLessor(lease, org) ?? notIn(lease, ['active']) ?? unlocked(lease, `lease ${lease.leaseId}`);
    if (bad) return bad;
    if (receivableOf(ctx, receivableId)) return reject('FINANCE.DUPLICATE_ID', `receivable ${receivableId} already exists`);
    const dueDate = lastDueOf(lease);
    const today = todayOf(ctx);
    if (dueDate <= today) return reject('FINANCE.INVALID_STATE', `the rent of lease ${lease.leaseId} is all due by ${dueDate}; nothing is left of its term to refinance`);
    const faceValue = amountOf(rentOutstanding(lease));
    const hash = leaseDocumentHashOf(lease);
    const total = amountOf(lease.schedule.reduce((s, i) => s + toMinor(i.amount), 0n));
    const doc = recordOf<UnderlyingDocument>(ctx, documentKeyOf('contract', hash));
    if (doc && (doc.currency !== lease.currency || doc.amount !== total))
      return reject('FINANCE.DOCUMENT_MISMATCH', `contract document ${hash} is recorded for ${doc.amount} ${doc.currency}, lease ${lease.leaseId} totals ${total} ${lease.currency}`);
    const backed = toMinor(doc?.backed ?? '0') + toMinor(faceValue);
    if (backed > toMinor(total)) return reject('FINANCE.DOCUMENT_OVERCOMMITTED', `contract document ${hash} backs ${doc?.backed ?? '0'} already; ${faceValue} more exceeds its ${total}`);
    const document: UnderlyingDocument = { docType: 'contract', hash, currency: lease.currency, amount: total, backed: amountOf(backed), receivables: [...(doc?.receivables ?? []), receivableId] };
    const receivable: Receivable = {
      receivableId,
      rootId: receivableId,
      parentId: null,
      children: [],
      issuer: lease.lessor,
      debtor: lease.lessee,
      holder: lease.lessor,
      currency: lease.currency,
      faceValue,
      paidAmount: '0',
      dueDate,
      documents: [{ docType: 'contract', hash, amount: total }],
      creditLineId: null,
      status: 'confirmed',
      ...newAssetFields(ctx),
    };
    const encumbrance: Encumbrance = { kind: 'lease-refinancing', financingId: receivableId, financier: lease.lessor, sinceBlock: ctx.blockNumber };
    const refinancing: LeaseRefinancing = { receivableId, faceValue, documentHash: hash, atBlock: ctx.blockNumber };
    return ok(
      assetWrite(ctx, KIND, lease.leaseId, { ...lease, encumbrance, refinancing }),
      assetWrite(ctx, 'receivable', receivableId, receivable),
      recordWrite(documentKeyOf('contract', hash), document),
    );
  },
};

/**
 * `finance.lease.complete` `{ leaseId }` by the lessor or the lessee, for a
 * refinanced lease (one that is not completes on its last `pay`), not frozen,
 * once every leaf of its receivable's tree is settled (`FINANCE.NOT_SETTLED`)
 * → completed: the installments count as paid (through the receivable) and
 * the refinancing lock ends.
 */
export const leaseCompleteContract: ContractHandler = {
  type: 'finance.lease.complete',
  configuration: false,
  execute(ctx) {
    const found = existing(ctx, [], 'completes its leases');
    if (isOutcome(found)) return found;
    const { lease, org } = found;
    const bad = notParty(lease, org) ?? notIn(lease, ['active']) ?? frozenLease(lease);
    if (bad) return bad;
    if (!lease.refinancing) return reject('FINANCE.INVALID_STATE', `lease ${lease.leaseId} is not refinanced; it completes with its last finance.lease.pay`);
    const root = receivableOf(ctx, lease.refinancing.receivableId);
    const open = root ? leavesOf(ctx, root).filter((leaf) => leaf.status !== 'settled') : [];
    if (!root || open.length > 0)
      return reject('FINANCE.NOT_SETTLED', `the refinancing receivable ${lease.refinancing.receivableId} of lease ${lease.leaseId} is not settled${open.length ? ` (${open.map((l) => `${l.receivableId} ${l.status}`).join(', ')})` : ''}`);
    const schedule = lease.schedule.map((i) => ({ ...i, paidAmount: i.amount }));
    return ok(assetWrite(ctx, KIND, lease.leaseId, { ...lease, schedule, status: 'completed', encumbrance: null, closedAtBlock: ctx.blockNumber }), freeAsset(lease));
  },
};

/**
 * How financing sees a lease: the lessor applies; financeable while active
 * (not proposed, overdue or closed); its value is the rent outstanding, its
 * term the last unpaid installment's due date. A refinanced lease carries the
 * `lease-refinancing` lock, so the locks refuse it before this does.
 */
export const leaseAsset: FinanceableAsset<Lease> = {
  kind: KIND,
  holderOf: (l) => l.lessor,
  notFinanceable: (l) => notIn(l, ['active']),
  currencyOf: (l) => l.currency,
  valueOf: (l) => amountOf(rentOutstanding(l)),
  dueDateOf: lastDueOf,
};

export const leaseContracts: readonly ContractHandler[] = [
  leaseProposeContract,
  leaseAcceptContract,
  leaseCancelContract,
  leasePayContract,
  leaseMarkOverdueContract,
  leaseRepossessContract,
  leaseRefinanceContract,
  leaseCompleteContract,
];
