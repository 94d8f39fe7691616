import { z } from 'zod';
import { financeRecordKey } from './read-model';

/**
 * Every finance command the REST API takes (docs/finance.md, Commands and
 * receipts), as data: its route, the contract transaction it becomes, the
 * permission its caller needs in this organization (or any one of several;
 * regulators only where `observerMay`), the shape of its body
 * and the record its receipt carries. Path parameters join the body into the
 * transaction's payload under their own names. The shapes check types only —
 * what a value may be, and whether the operation is allowed, is the
 * contract's to decide (its codes come back in the receipt).
 */
export interface CommandRoute {
  /** The controller method (unique). */
  readonly name: string;
  readonly method: 'POST' | 'PATCH';
  /** Below `/finance/v1`, Express style (`receivables/:receivableId/confirm`). */
  readonly path: string;
  readonly type: string;
  /** The permission its caller needs in this organization; given several, any one of them will do. */
  readonly permission: string | readonly [string, ...string[]];
  /** A write a regulator (a read-only observer) may call too: the freeze and unfreeze only (docs/authorization.md). */
  readonly observerMay?: true;
  readonly body: z.ZodObject<z.ZodRawShape>;
  /** The world-state key of the record the receipt carries. */
  readonly record: (payload: Record<string, unknown>) => string;
  /** 201 (with Location) rather than 200 when committed. */
  readonly creates?: boolean;
  readonly summary: string;
}

const RECEIVABLE = 'finance.receivable.manage';
const FINANCING = 'finance.financing.manage';
const CREDIT_LINE = 'finance.credit-line.manage';
const WAREHOUSE_RECEIPT = 'finance.warehouse-receipt.manage';
const LEASE = 'finance.lease.manage';
/** Observers' freeze and unfreeze: an admin key of the observer organization, or its agent with this permission. */
const FREEZE = 'finance.asset.freeze';
/** Mark-overdue and declare-default: the holder's or debtor's staff (receivables) or the financier's (financings); the contract decides which party may. */
const HOLDER_OR_FINANCIER = [RECEIVABLE, FINANCING] as const;

const str = z.string();
const body = (shape: z.ZodRawShape = {}) => z.object(shape).strict();
const receivable = (p: Record<string, unknown>) => financeRecordKey('receivable', String(p['receivableId']));
const financing = (p: Record<string, unknown>) => financeRecordKey('financing', String(p['financingId']));
const receipt = (p: Record<string, unknown>) => financeRecordKey('warehouse-receipt', String(p['receiptId']));
const lease = (p: Record<string, unknown>) => financeRecordKey('lease', String(p['leaseId']));

/** An action on one existing record: `POST <resource>/:<idField>/<verb>`. */
function action(resource: string, idField: string, verb: string, type: string, permission: CommandRoute['permission'], record: (p: Record<string, unknown>) => string, shape: z.ZodRawShape, summary: string): CommandRoute {
  const name = `${resource.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())}_${verb.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())}`;
  return { name, method: 'POST', path: `${resource}/:${idField}/${verb}`, type, permission, body: body(shape), record, summary };
}

const receivableAction = (verb: string, shape: z.ZodRawShape, summary: string, permission: CommandRoute['permission'] = RECEIVABLE) =>
  action('receivables', 'receivableId', verb, `finance.receivable.${verb}`, permission, receivable, shape, summary);
const financingAction = (verb: string, shape: z.ZodRawShape, summary: string) => action('financings', 'financingId', verb, `finance.financing.${verb}`, FINANCING, financing, shape, summary);
const receiptAction = (verb: string, shape: z.ZodRawShape, summary: string) => action('warehouse-receipts', 'receiptId', verb, `finance.warehouse-receipt.${verb}`, WAREHOUSE_RECEIPT, receipt, shape, summary);
const leaseAction = (verb: string, shape: z.ZodRawShape, summary: string) => action('leases', 'leaseId', verb, `finance.lease.${verb}`, LEASE, lease, shape, summary);
const freezeAction = (verb: 'freeze' | 'unfreeze', shape: z.ZodRawShape, summary: string): CommandRoute => ({
  ...action('assets', 'assetId', verb, `finance.asset.${verb}`, FREEZE, (p) => `finance/${String(p['assetKind'])}/${String(p['assetId'])}`, shape, summary),
  path: `assets/:assetKind/:assetId/${verb}`,
  observerMay: true,
});

export const COMMAND_ROUTES: readonly CommandRoute[] = [
  {
    name: 'receivables_issue',
    method: 'POST',
    path: 'receivables',
    type: 'finance.receivable.issue',
    permission: RECEIVABLE,
    body: body({
      receivableId: str,
      debtor: str,
      currency: str,
      faceValue: str,
      dueDate: str,
      documents: z.array(z.object({ docType: str, hash: str, amount: str, eventId: str.optional() }).strict()),
    }),
    record: receivable,
    creates: true,
    summary: 'Issues a receivable certificate against its documents `{ receivableId, debtor, currency, faceValue, dueDate, documents: [{ docType, hash, amount, eventId? }] }`; this organization becomes issuer and holder',
  },
  receivableAction('confirm', { creditLineId: str }, 'The debtor confirms an issued receivable `{ creditLineId }`, charging its credit line'),
  receivableAction('reject', { reason: str }, 'The debtor rejects an issued receivable `{ reason }`'),
  receivableAction('cancel', { reason: str }, 'The issuer cancels an issued receivable `{ reason }`'),
  receivableAction('transfer', { to: str }, 'The holder transfers a confirmed, unencumbered receivable `{ to }`'),
  receivableAction('split', { parts: z.array(z.object({ receivableId: str, faceValue: str, holder: str }).strict()) }, 'The holder splits a receivable `{ parts: [{ receivableId, faceValue, holder }] }` (face values summing exactly to its own)'),
  {
    ...action('receivables', 'rootId', 'repay', 'finance.receivable.repay', RECEIVABLE, (p) => financeRecordKey('payment', String(p['paymentId'])), { paymentId: str, amount: str, paymentReference: str }, ''),
    creates: true,
    summary: 'The debtor repays a receivable tree `{ paymentId, amount, paymentReference }` (path: its root); the receipt carries the payment and its allocations to holders and financiers',
  },
  receivableAction('mark-overdue', {}, 'Marks a receivable past its due date overdue (holder, financier or debtor)', HOLDER_OR_FINANCIER),
  receivableAction('declare-default', { reason: str }, 'Declares an overdue receivable defaulted `{ reason }` (holder or financier, 30 days past due)', HOLDER_OR_FINANCIER),
  {
    name: 'creditLines_grant',
    method: 'POST',
    path: 'credit-lines',
    type: 'finance.credit-line.grant',
    permission: CREDIT_LINE,
    body: body({ creditLineId: str, debtor: str, currency: str, limit: str, expiresOn: str.optional() }),
    record: (p) => financeRecordKey('credit-line', String(p['creditLineId'])),
    creates: true,
    summary: 'A financier grants a debtor a credit line `{ creditLineId, debtor, currency, limit, expiresOn? }`',
  },
  {
    name: 'creditLines_update',
    method: 'PATCH',
    path: 'credit-lines/:creditLineId',
    type: 'finance.credit-line.update',
    permission: CREDIT_LINE,
    body: body({ limit: str.optional(), status: str.optional(), expiresOn: str.nullable().optional() }),
    record: (p) => financeRecordKey('credit-line', String(p['creditLineId'])),
    summary: 'The financier changes a credit line `{ limit?, status? (active | suspended | closed), expiresOn? (date or null) }`',
  },
  {
    name: 'financings_apply',
    method: 'POST',
    path: 'financings',
    type: 'finance.financing.apply',
    permission: FINANCING,
    body: body({ financingId: str, assetKind: str, assetId: str, financier: str, kind: str, recourse: z.boolean().optional(), principal: str.optional() }),
    record: financing,
    creates: true,
    summary: 'The holder applies to a financier `{ financingId, assetKind, assetId, financier, kind (discounting | factoring | pledge), recourse?, principal? }`',
  },
  financingAction('approve', { rateBps: z.number().int(), dayCount: str, feeMinor: str }, 'The financier approves `{ rateBps, dayCount, feeMinor }`: the asset is encumbered (FINANCE.ALREADY_ENCUMBERED when financed elsewhere first)'),
  financingAction('reject', { reason: str }, 'The financier rejects an application `{ reason }`'),
  financingAction('withdraw', { reason: str.optional() }, 'The applicant withdraws its application `{ reason? }`'),
  financingAction('disburse', { paymentReference: str }, 'The financier records the disbursement `{ paymentReference }`'),
  financingAction('release', {}, 'The financier releases its lock on the asset'),
  financingAction('recourse', { reason: str }, 'The financier takes recourse on a defaulted asset `{ reason }`'),
  {
    name: 'warehouseReceipts_issue',
    method: 'POST',
    path: 'warehouse-receipts',
    type: 'finance.warehouse-receipt.issue',
    permission: WAREHOUSE_RECEIPT,
    body: body({
      receiptId: str,
      holder: str,
      goods: z.object({ item: str, quantity: str, uom: str }).strict(),
      evidence: z.array(str),
      currency: str,
      value: str,
      onHand: str,
      expiresOn: str,
    }),
    record: receipt,
    creates: true,
    summary: 'The warehouse issues a receipt for goods in its custody `{ receiptId, holder, goods: { item, quantity, uom }, evidence: [eventId], currency, value, onHand, expiresOn }`',
  },
  {
    name: 'warehouseReceipts_merge',
    method: 'POST',
    path: 'warehouse-receipts/merge',
    type: 'finance.warehouse-receipt.merge',
    permission: WAREHOUSE_RECEIPT,
    body: body({ receiptId: str, receiptIds: z.array(str) }),
    record: receipt,
    creates: true,
    summary: 'The holder merges receipts of one lot into a new one `{ receiptId, receiptIds }`',
  },
  receiptAction('split', { parts: z.array(z.object({ receiptId: str, quantity: str, value: str }).strict()) }, 'The holder splits a receipt `{ parts: [{ receiptId, quantity, value }] }`'),
  receiptAction('hold', { cause: str, reference: str }, 'The warehouse or the lender holds a receipt `{ cause (sensor-alarm | stock-shortfall), reference }`'),
  receiptAction('release-hold', {}, 'Lifts a hold (the lender when pledged, else the warehouse)'),
  receiptAction('request-delivery', {}, 'The holder requests delivery of the goods (a pledged receipt needs the lender’s release first)'),
  receiptAction('withdraw-delivery', {}, 'The holder withdraws its delivery request'),
  receiptAction('deliver', {}, 'The warehouse delivers the goods'),
  receiptAction('cancel', { reason: str }, 'The warehouse cancels a receipt `{ reason }`'),
  {
    name: 'leases_propose',
    method: 'POST',
    path: 'leases',
    type: 'finance.lease.propose',
    permission: LEASE,
    body: body({ leaseId: str, lessee: str, asset: z.object({ item: str, deviceId: str }).strict(), currency: str, schedule: z.array(z.object({ dueDate: str, amount: str }).strict()) }),
    record: lease,
    creates: true,
    summary: 'The lessor proposes a lease of a device-identified asset `{ leaseId, lessee, asset: { item, deviceId }, currency, schedule: [{ dueDate, amount }] }`',
  },
  leaseAction('accept', {}, 'The lessee accepts a proposed lease'),
  leaseAction('cancel', { reason: str.optional() }, 'Lessor or lessee cancels a proposed lease `{ reason? }`'),
  leaseAction('pay', { paymentId: str, amount: str }, 'The lessee pays installments `{ paymentId, amount }`; the receipt carries the lease'),
  leaseAction('mark-overdue', {}, 'The lessor marks a lease with a past-due installment overdue'),
  leaseAction('repossess', { reason: str.optional() }, 'The lessor repossesses after the grace period `{ reason? }`'),
  leaseAction('refinance', { receivableId: str }, 'The lessor turns the outstanding rent into a receivable certificate `{ receivableId }`; the lease is encumbered'),
  leaseAction('complete', {}, 'Completes a fully paid (or refinanced and settled) lease'),
  freezeAction('freeze', { reason: str, orderReference: str.optional() }, 'An observer organization (regulator, court) freezes an asset `{ reason, orderReference? }` (assetKind: receivable | warehouse-receipt | lease)'),
  freezeAction('unfreeze', { reason: str }, 'An observer organization lifts its freeze `{ reason }`'),
];

/** The path parameters of a route (`:receivableId` → receivableId). */
export const paramsOf = (route: CommandRoute): string[] => [...route.path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]);

/** `POST /receivables/{receivableId}/confirm`: how a route is named in commands and problems. */
export const operationOf = (route: CommandRoute): string => `${route.method} /${route.path.replace(/:([A-Za-z]+)/g, '{$1}')}`;
