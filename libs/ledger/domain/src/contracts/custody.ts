import { toBase64Url, utf8 } from '@alliance/protocol';
import { exactFields, reject } from './agent-keys';
import { mayActWith } from './roles';
import type { ContractContext, ContractHandler, ContractOutcome, JsonValue } from './types';

/**
 * Custody and ownership of traceable items (issue 5, fifth part; after
 * Hyperledger Grid's Track and Trace). An organization registers an item — a
 * GS1 key in its one stored form, the canonical Digital Link on
 * `https://id.gs1.org/` — and holds it as owner and custodian. Either role
 * moves to another member organization only by a transfer the holder proposes
 * and the receiver accepts; the holder may cancel it, the receiver reject it.
 * One transfer per item is open at a time. State:
 *
 *   provenance/item/<b64u(item)>        → CustodyItem
 *   provenance/transfer/<transferId>    → Transfer
 *
 *   open ──accept (to)──────→ accepted   (owner or custodian becomes `to`)
 *     ├──reject (to)──────→ rejected
 *     └──cancel (from)────→ cancelled
 *
 * Every step is for an admin key of the acting organization or its agent
 * holding `provenance.custody.manage` there (`mayActWith`). The read model
 * derives two EPCIS events from each accepted transfer (`transferEventOf`).
 */
export interface CustodyItem {
  /** The canonical GS1 Digital Link (`https://id.gs1.org/…`). */
  readonly item: string;
  /** The organization that owns the item. */
  readonly owner: string;
  /** The organization that holds it physically. */
  readonly custodian: string;
  readonly registeredAtBlock: number;
  /** Block of the record's last write (registration, a proposal, a decision). */
  readonly updatedAtBlock: number;
  /** The open transfer's id, or null. */
  readonly pendingTransfer: string | null;
}

export type TransferKind = 'ownership' | 'custody';
export type TransferStatus = 'open' | 'accepted' | 'rejected' | 'cancelled';

export interface Transfer {
  readonly transferId: string;
  readonly item: string;
  readonly kind: TransferKind;
  /** The proposing organization: the item's owner (ownership) or custodian (custody) when proposed. */
  readonly from: string;
  /** The receiving organization, a member of the chain. */
  readonly to: string;
  readonly status: TransferStatus;
  readonly proposedAtBlock: number;
  /** The proposing block's timestamp (RFC 3339 ms, UTC). */
  readonly proposedAt: string;
  /** Accept, reject or cancel: its block and that block's timestamp; null while open. */
  readonly decidedAtBlock: number | null;
  readonly decidedAt: string | null;
  readonly proposalTransactionId: string;
  readonly decisionTransactionId: string | null;
  readonly note: string | null;
  /** The reason given with the decision (reject, cancel, or accept), or null. */
  readonly reason: string | null;
}

/** The permission an agent needs to register items and propose, answer or cancel transfers for its organization (admin keys need none). */
export const CUSTODY_MANAGE_PERMISSION = 'provenance.custody.manage';
/** Longest item key, note and reason. */
export const MAX_ITEM_LENGTH = 300;
export const MAX_TRANSFER_TEXT = 500;

/**
 * The form of an item key: `https://id.gs1.org/`, a primary key AI of a thing
 * that can be owned and held — 01 (GTIN, with lot 10 / serial 21 …), 00
 * (SSCC), 8003 (GRAI), 8004 (GIAI) — and its value, then qualifier AI/value
 * pairs; values of GS1 character set 82 as the canonical link writes them
 * (`!'()*+,-.:;=_`, letters, digits, upper-case %-escapes for the rest). The
 * service normalises (`parseGs1Key`) and checks the digits before it submits;
 * the contract checks only this form.
 */
const VALUE = "(?:[A-Za-z0-9!'()*+,\\-.:;=_]|%[0-9A-F]{2})+";
const ITEM = new RegExp(`^https://id\\.gs1\\.org/(?:01|00|8003|8004)/${VALUE}(?:/\\d{2,4}/${VALUE})*$`);
const TRANSFER_ID = /^[A-Za-z0-9_-]{8,64}$/;
const TEXT = new RegExp(`^[^\\p{Cc}]{1,${MAX_TRANSFER_TEXT}}$`, 'u');
const KINDS: readonly TransferKind[] = ['ownership', 'custody'];

const b64u = (text: string) => toBase64Url(utf8(text));
export const itemKeyOf = (item: string) => `provenance/item/${b64u(item)}`;
export const transferKeyOf = (transferId: string) => `provenance/transfer/${transferId}`;

const invalid = (detail: string) => reject('PROVENANCE.INVALID_TRANSFER', detail);

// The payload with no field outside `fields`, or the refusal naming the extra ones.
function payloadOf(ctx: ContractContext, fields: readonly string[]): Record<string, unknown> | ContractOutcome {
  const payload = ctx.transaction.payload as Record<string, unknown>;
  const extra = exactFields(payload, fields);
  return extra ? invalid(`${extra.ok ? '' : extra.detail}; expected only ${fields.join(', ')}`) : payload;
}

const isOutcome = (v: unknown): v is ContractOutcome => typeof v === 'object' && v !== null && 'ok' in v;

function checkItem(value: unknown): ContractOutcome | undefined {
  if (typeof value !== 'string' || value.length > MAX_ITEM_LENGTH || !ITEM.test(value))
    return invalid(`payload.item must be a GS1 key as its canonical Digital Link on https://id.gs1.org/ (primary AI 01, 00, 8003 or 8004, then AI/value pairs), at most ${MAX_ITEM_LENGTH} characters`);
  return undefined;
}

function textOf(value: unknown, field: string): string | null | ContractOutcome {
  if (value === undefined) return null;
  if (typeof value !== 'string' || !TEXT.test(value)) return invalid(`payload.${field}, when given, must be 1-${MAX_TRANSFER_TEXT} characters without control characters`);
  return value;
}

const itemOf = (ctx: ContractContext, item: string) => ctx.state.get(itemKeyOf(item))?.value as CustodyItem | null | undefined;
const transferOf = (ctx: ContractContext, transferId: string) => ctx.state.get(transferKeyOf(transferId))?.value as Transfer | null | undefined;
const holderOf = (item: CustodyItem, kind: TransferKind) => (kind === 'ownership' ? item.owner : item.custodian);

const written = (item: CustodyItem, transfer: Transfer): ContractOutcome => ({
  ok: true,
  writes: [
    { key: itemKeyOf(item.item), value: item as unknown as JsonValue },
    { key: transferKeyOf(transfer.transferId), value: transfer as unknown as JsonValue },
  ],
});

/**
 * `provenance.item.register`: `{ item, owner?, custodian? }` — the creator's
 * organization registers an item it owns and holds. `owner` and `custodian`
 * may be stated and must then name the creator's organization: an item
 * reaches another organization only by a transfer it accepts.
 */
export const itemRegisterContract: ContractHandler = {
  type: 'provenance.item.register',
  configuration: false,
  execute(ctx) {
    const denied = mayActWith(ctx, CUSTODY_MANAGE_PERMISSION, 'registers its items');
    if (denied) return denied;
    const payload = payloadOf(ctx, ['item', 'owner', 'custodian']);
    if (isOutcome(payload)) return payload;
    const bad = checkItem(payload['item']);
    if (bad) return bad;
    const organizationId = ctx.transaction.creator.organizationId;
    for (const field of ['owner', 'custodian'])
      if (payload[field] !== undefined && payload[field] !== organizationId)
        return invalid(`payload.${field}, when given, must be the registering organization ${organizationId}; an item moves to another organization only by provenance.transfer.propose and its acceptance`);
    const item = payload['item'] as string;
    const existing = itemOf(ctx, item);
    if (existing) return reject('PROVENANCE.ITEM_EXISTS', `item ${item} is already registered (owner ${existing.owner}, custodian ${existing.custodian})`);
    const record: CustodyItem = { item, owner: organizationId, custodian: organizationId, registeredAtBlock: ctx.blockNumber, updatedAtBlock: ctx.blockNumber, pendingTransfer: null };
    return { ok: true, writes: [{ key: itemKeyOf(item), value: record as unknown as JsonValue }] };
  },
};

/**
 * `provenance.transfer.propose`: `{ transferId, item, kind: 'ownership' | 'custody', to, note? }`
 * — by the item's owner (ownership) or custodian (custody), to another member
 * organization (observers hold no items), while no other transfer of the item
 * is open. Of two proposals for one item in one block, the second finds the
 * first open (`PROVENANCE.TRANSFER_PENDING`).
 */
export const transferProposeContract: ContractHandler = {
  type: 'provenance.transfer.propose',
  configuration: false,
  execute(ctx) {
    const denied = mayActWith(ctx, CUSTODY_MANAGE_PERMISSION, 'proposes its transfers');
    if (denied) return denied;
    const payload = payloadOf(ctx, ['transferId', 'item', 'kind', 'to', 'note']);
    if (isOutcome(payload)) return payload;
    const { transferId, kind, to } = payload;
    if (typeof transferId !== 'string' || !TRANSFER_ID.test(transferId)) return invalid('payload.transferId must be 8-64 of [A-Za-z0-9_-]');
    const bad = checkItem(payload['item']);
    if (bad) return bad;
    if (!KINDS.includes(kind as TransferKind)) return invalid('payload.kind must be "ownership" or "custody"');
    if (typeof to !== 'string' || to.length === 0) return invalid('payload.to must be the receiving organization id');
    const note = textOf(payload['note'], 'note');
    if (isOutcome(note)) return note;
    if (transferOf(ctx, transferId)) return reject('PROVENANCE.DUPLICATE_TRANSFER', `transfer ${transferId} already exists`);
    const item = itemOf(ctx, payload['item'] as string);
    if (!item) return reject('PROVENANCE.UNKNOWN_ITEM', `item ${String(payload['item'])} is not registered`);
    const organizationId = ctx.transaction.creator.organizationId;
    const holder = holderOf(item, kind as TransferKind);
    if (holder !== organizationId)
      return kind === 'ownership'
        ? reject('PROVENANCE.NOT_OWNER', `only the owner ${holder} of ${item.item} proposes its ownership transfer`)
        : reject('PROVENANCE.NOT_CUSTODIAN', `only the custodian ${holder} of ${item.item} proposes its custody transfer`);
    if (item.pendingTransfer !== null) return reject('PROVENANCE.TRANSFER_PENDING', `transfer ${item.pendingTransfer} of ${item.item} is open; it is answered or cancelled first`);
    if (!ctx.config.members.some((m) => m.organizationId === to)) return invalid(`payload.to (${to}) must be a member organization of the chain`);
    if (to === holder) return invalid(`payload.to must differ from the current ${kind === 'ownership' ? 'owner' : 'custodian'} ${holder}`);
    const transfer: Transfer = {
      transferId,
      item: item.item,
      kind: kind as TransferKind,
      from: organizationId,
      to,
      status: 'open',
      proposedAtBlock: ctx.blockNumber,
      proposedAt: ctx.blockTimestamp,
      decidedAtBlock: null,
      decidedAt: null,
      proposalTransactionId: ctx.transactionId,
      decisionTransactionId: null,
      note,
      reason: null,
    };
    return written({ ...item, pendingTransfer: transferId, updatedAtBlock: ctx.blockNumber }, transfer);
  },
};

// The common part of answer and cancel: a well-formed payload naming an open transfer, and its item.
function openTransfer(
  ctx: ContractContext,
  fields: readonly string[],
  what: string,
  check: (payload: Record<string, unknown>) => ContractOutcome | undefined = () => undefined,
): { payload: Record<string, unknown>; transfer: Transfer; item: CustodyItem; reason: string | null } | ContractOutcome {
  const denied = mayActWith(ctx, CUSTODY_MANAGE_PERMISSION, what);
  if (denied) return denied;
  const payload = payloadOf(ctx, fields);
  if (isOutcome(payload)) return payload;
  const transferId = payload['transferId'];
  if (typeof transferId !== 'string' || !TRANSFER_ID.test(transferId)) return invalid('payload.transferId must be 8-64 of [A-Za-z0-9_-]');
  const bad = check(payload);
  if (bad) return bad;
  const reason = textOf(payload['reason'], 'reason');
  if (isOutcome(reason)) return reason;
  const transfer = transferOf(ctx, transferId);
  if (!transfer) return reject('PROVENANCE.UNKNOWN_TRANSFER', `transfer ${transferId} does not exist`);
  return { payload, transfer, item: itemOf(ctx, transfer.item) as CustodyItem, reason };
}

const closed = (t: Transfer) => reject('PROVENANCE.TRANSFER_CLOSED', `transfer ${t.transferId} was ${t.status} at block ${String(t.decidedAtBlock)}`);

function decide(ctx: ContractContext, transfer: Transfer, item: CustodyItem, status: Exclude<TransferStatus, 'open'>, reason: string | null): ContractOutcome {
  const moved = status === 'accepted' ? (transfer.kind === 'ownership' ? { owner: transfer.to } : { custodian: transfer.to }) : {};
  return written(
    { ...item, ...moved, pendingTransfer: null, updatedAtBlock: ctx.blockNumber },
    { ...transfer, status, decidedAtBlock: ctx.blockNumber, decidedAt: ctx.blockTimestamp, decisionTransactionId: ctx.transactionId, reason },
  );
}

/**
 * `provenance.transfer.answer`: `{ transferId, decision: 'accept' | 'reject', reason? }`
 * — by the receiving organization, for an open transfer. Accept makes `to` the
 * item's owner or custodian; either decision closes the transfer.
 */
export const transferAnswerContract: ContractHandler = {
  type: 'provenance.transfer.answer',
  configuration: false,
  execute(ctx) {
    const found = openTransfer(ctx, ['transferId', 'decision', 'reason'], 'answers its transfers', (p) =>
      p['decision'] === 'accept' || p['decision'] === 'reject' ? undefined : invalid('payload.decision must be "accept" or "reject"'),
    );
    if (isOutcome(found)) return found;
    const { payload, transfer, item, reason } = found;
    const decision = payload['decision'];
    const organizationId = ctx.transaction.creator.organizationId;
    if (transfer.to !== organizationId) return reject('PROVENANCE.NOT_RECEIVER', `only the receiving organization ${transfer.to} answers transfer ${transfer.transferId}`);
    if (transfer.status !== 'open') return closed(transfer);
    return decide(ctx, transfer, item, decision === 'accept' ? 'accepted' : 'rejected', reason);
  },
};

/** `provenance.transfer.cancel`: `{ transferId, reason? }` — by the proposing organization, for an open transfer; the item stays where it was. */
export const transferCancelContract: ContractHandler = {
  type: 'provenance.transfer.cancel',
  configuration: false,
  execute(ctx) {
    const found = openTransfer(ctx, ['transferId', 'reason'], 'cancels its transfers');
    if (isOutcome(found)) return found;
    const { transfer, item, reason } = found;
    const organizationId = ctx.transaction.creator.organizationId;
    if (transfer.from !== organizationId) return reject('PROVENANCE.NOT_PROPOSER', `only the proposing organization ${transfer.from} cancels transfer ${transfer.transferId}`);
    if (transfer.status !== 'open') return closed(transfer);
    return decide(ctx, transfer, item, 'cancelled', reason);
  },
};

/** Whether an item key names a class of objects (a GTIN, a lot, a GRAI without serial) rather than one instance (SGTIN, SSCC, serialised GRAI, GIAI). */
export function isClassKey(item: string): boolean {
  const segments = item.slice('https://id.gs1.org/'.length).split('/');
  const ais = segments.filter((_, i) => i % 2 === 0);
  switch (segments[0]) {
    case '01':
      return !ais.includes('21') && !ais.includes('235');
    case '8003':
      return segments[1].length === 14;
    default:
      return false;
  }
}

export type TransferPhase = 'shipping' | 'receiving';

/**
 * The EPCIS 2.0 ObjectEvent the read model derives from an accepted transfer,
 * one per phase: the holder ships, the receiver receives. A pure function of
 * the transfer record (no clock): the same transfer gives the same objects on
 * every member, so their CBV 2.0 event hashes agree. Fields, in this order:
 *
 * - `type`: `"ObjectEvent"`.
 * - `eventTime`: `proposedAt` (shipping) or `decidedAt` (receiving) — block
 *   timestamps, UTC; `eventTimeZoneOffset`: `"+00:00"`.
 * - `epcList: [item]` for an instance key (SGTIN, SSCC, GIAI, serialised
 *   GRAI …), or `quantityList: [{ epcClass: item }]` (no quantity: the
 *   transfer moves the whole class or lot the key names) for a class key
 *   (`isClassKey`).
 * - `action`: `"OBSERVE"` (the item exists before and after).
 * - `bizStep`: `"shipping"` or `"receiving"`; `disposition`: `"in_transit"`
 *   (shipping) or `"in_progress"` (receiving).
 * - `bizTransactionList`: `[{ type: "urn:alliance:transfer", bizTransaction: "urn:alliance:transfer:<transferId>" }]`.
 * - shipping: `sourceList: [{ type, source: "urn:alliance:org:<from>" }]`;
 *   receiving: `destinationList: [{ type, destination: "urn:alliance:org:<to>" }]`;
 *   `type` is `"owning_party"` for an ownership transfer, `"possessing_party"`
 *   for custody.
 *
 * No `@context` (only CBV words and URIs are used), no `eventID` (the read
 * model names it by its hash ID, as any event captured without one), no
 * `recordTime`, `readPoint` or `bizLocation` (a transfer states none).
 * Throws for a transfer that is not accepted: only those moved anything.
 */
export function transferEventOf(transfer: Transfer, phase: TransferPhase): { [key: string]: JsonValue } {
  if (transfer.status !== 'accepted' || transfer.decidedAt === null) throw new Error(`transfer ${transfer.transferId} is ${transfer.status}; only an accepted transfer has events`);
  const party = transfer.kind === 'ownership' ? 'owning_party' : 'possessing_party';
  const what: { [key: string]: JsonValue } = isClassKey(transfer.item) ? { quantityList: [{ epcClass: transfer.item }] } : { epcList: [transfer.item] };
  const shipping = phase === 'shipping';
  return {
    type: 'ObjectEvent',
    eventTime: shipping ? transfer.proposedAt : transfer.decidedAt,
    eventTimeZoneOffset: '+00:00',
    ...what,
    action: 'OBSERVE',
    bizStep: shipping ? 'shipping' : 'receiving',
    disposition: shipping ? 'in_transit' : 'in_progress',
    bizTransactionList: [{ type: 'urn:alliance:transfer', bizTransaction: `urn:alliance:transfer:${transfer.transferId}` }],
    ...(shipping ? { sourceList: [{ type: party, source: `urn:alliance:org:${transfer.from}` }] } : { destinationList: [{ type: party, destination: `urn:alliance:org:${transfer.to}` }] }),
  };
}

export const custodyContracts: readonly ContractHandler[] = [itemRegisterContract, transferProposeContract, transferAnswerContract, transferCancelContract];
