import type { Pool, PoolClient } from '@alliance/shared/data-access-postgres';
import { withTransaction } from '@alliance/shared/data-access-postgres';
import {
  FinanceQueryErrors,
  isFinanceId,
  LIVE_RECEIVABLE_STATUSES,
  listPageSql,
  type ListKind,
  type ListQuery,
  OPEN_FINANCING_STATUSES,
  organizationOf,
  pageOf,
  parseListQuery,
  type QueryParams,
} from './finance-query';

export const FINANCE_QUERIES = Symbol('alliance.finance-queries');

/*
 * The views the finance read API answers (docs/finance.md, Queries,
 * positions and exposure). Every amount is a string of integer minor units
 * in the currency given beside it; every sum is made by PostgreSQL in
 * numeric and read back as text, never as a JavaScript number.
 */

export interface EncumbranceView {
  readonly kind: string;
  readonly financingId: string;
  readonly financier: string;
  readonly sinceBlock: number | null;
}

export interface FreezeView {
  readonly by: string;
  readonly reason: string;
  readonly orderReference: string | null;
  readonly atBlock: number | null;
  readonly at: string | null;
}

export interface DocumentRefView {
  readonly docType: string;
  readonly hash: string;
  readonly amount: string;
  readonly eventId: string | null;
}

export interface ReceivableView {
  readonly receivableId: string;
  readonly rootId: string;
  readonly parentId: string | null;
  readonly children: string[];
  readonly issuer: string;
  readonly debtor: string;
  readonly holder: string;
  readonly currency: string;
  readonly faceValue: string;
  readonly paidAmount: string;
  /** faceValue − paidAmount while issued, confirmed, overdue or defaulted; 0 once split (its children carry it), settled, rejected or cancelled. */
  readonly outstanding: string;
  readonly dueDate: string;
  readonly documents: DocumentRefView[];
  readonly creditLineId: string | null;
  readonly status: string;
  readonly encumbrance: EncumbranceView | null;
  readonly frozen: FreezeView | null;
  readonly createdAtBlock: number | null;
  readonly updatedAtBlock: number;
  readonly lastTransactionId: string;
}

export interface FinancingView {
  readonly financingId: string;
  readonly assetKind: string;
  readonly assetId: string;
  readonly applicant: string;
  readonly financier: string;
  readonly kind: string;
  readonly recourse: boolean;
  readonly currency: string;
  readonly faceValue: string;
  readonly principal: string;
  readonly dueDate: string | null;
  readonly rateBps: number | null;
  readonly dayCount: string | null;
  readonly feeMinor: string | null;
  readonly discount: string | null;
  readonly interest: string | null;
  readonly disbursedAmount: string | null;
  readonly days: number | null;
  readonly approvedOn: string | null;
  readonly status: string;
  /** Σ of the repayment allocations paid to the financier for this financing. */
  readonly collected: string;
  readonly paymentReference: string | null;
  readonly reason: string | null;
  readonly appliedAtBlock: number | null;
  readonly decidedAtBlock: number | null;
  readonly disbursedAtBlock: number | null;
  readonly closedAtBlock: number | null;
  readonly updatedAtBlock: number;
  readonly lastTransactionId: string;
}

export interface CreditLineView {
  readonly creditLineId: string;
  readonly financier: string;
  readonly debtor: string;
  readonly currency: string;
  readonly limit: string;
  readonly used: string;
  /** limit − used while active, never below 0; 0 when suspended or closed. */
  readonly available: string;
  readonly status: string;
  readonly expiresOn: string | null;
  readonly createdAtBlock: number | null;
  readonly updatedAtBlock: number;
  readonly lastTransactionId: string;
}

export interface PaymentAllocationView {
  readonly receivableId: string;
  readonly payee: string;
  readonly amount: string;
  readonly financingId: string | null;
}

export interface PaymentView {
  readonly paymentId: string;
  readonly rootId: string;
  readonly debtor: string;
  readonly currency: string;
  readonly amount: string;
  readonly paymentReference: string | null;
  readonly allocations: PaymentAllocationView[];
  readonly skippedFrozen: string[];
  readonly atBlock: number | null;
  readonly at: string | null;
  readonly lastTransactionId: string;
}

export interface HoldView {
  readonly cause: string;
  readonly reference: string;
  readonly by: string;
  readonly atBlock: number | null;
  readonly at: string | null;
}

export interface WarehouseReceiptView {
  readonly receiptId: string;
  readonly warehouse: string;
  readonly holder: string;
  readonly goods: { readonly item: string; readonly quantity: string; readonly uom: string };
  readonly evidence: string[];
  readonly currency: string;
  readonly value: string;
  readonly expiresOn: string | null;
  readonly status: string;
  readonly hold: HoldView | null;
  readonly deliveryRequestedAtBlock: number | null;
  readonly parentIds: string[];
  readonly childIds: string[];
  readonly reason: string | null;
  readonly encumbrance: EncumbranceView | null;
  readonly frozen: FreezeView | null;
  readonly createdAtBlock: number | null;
  readonly closedAtBlock: number | null;
  readonly updatedAtBlock: number;
  readonly lastTransactionId: string;
}

export interface LeaseInstallmentView {
  readonly dueDate: string;
  readonly amount: string;
  readonly paidAmount: string;
}

export interface LeasePaymentView {
  readonly paymentId: string;
  readonly amount: string;
  readonly allocations: Array<{ readonly dueDate: string; readonly amount: string }>;
  readonly atBlock: number | null;
  readonly at: string | null;
}

export interface LeaseView {
  readonly leaseId: string;
  readonly lessor: string;
  readonly lessee: string;
  readonly asset: { readonly item: string; readonly deviceId: string; readonly deviceOrganization: string | null };
  readonly currency: string;
  readonly schedule: LeaseInstallmentView[];
  /** Σ installment amounts. */
  readonly scheduled: string;
  /** Σ installment paidAmount. */
  readonly paid: string;
  /** scheduled − paid while active or overdue; 0 otherwise (not yet in force, or ended). */
  readonly outstanding: string;
  readonly status: string;
  readonly overdueSince: string | null;
  readonly refinancing: { readonly receivableId: string; readonly faceValue: string; readonly documentHash: string; readonly atBlock: number | null } | null;
  readonly reason: string | null;
  readonly encumbrance: EncumbranceView | null;
  readonly frozen: FreezeView | null;
  readonly createdAtBlock: number | null;
  readonly acceptedAtBlock: number | null;
  readonly closedAtBlock: number | null;
  readonly updatedAtBlock: number;
  readonly lastTransactionId: string;
  /** Only in the answer for one lease: its payments, oldest first. */
  readonly payments?: LeasePaymentView[];
}

export interface Page<T> {
  readonly items: T[];
  readonly nextPageToken: string | null;
}

export interface TreeNodeView extends ReceivableView {
  /** Splits from the root: 0 for the root. */
  readonly depth: number;
  /** Every financing applied for on this node, in financingId order. */
  readonly financings: FinancingView[];
}

export interface CertificateTree {
  readonly rootId: string;
  /** The receivable asked for (any node of the tree). */
  readonly receivableId: string;
  readonly currency: string;
  readonly debtor: string;
  readonly issuer: string;
  readonly dueDate: string;
  /** The root's face value: Σ face values of the leaves, always. */
  readonly faceValue: string;
  /** Σ paidAmount of the leaves (nodes not split). */
  readonly paid: string;
  /** Σ outstanding of the live leaves (confirmed, overdue, defaulted). */
  readonly outstanding: string;
  /** Σ outstanding of the live leaves that a financing encumbers. */
  readonly financed: string;
  /** The nodes, root first, then by depth and in each parent's order of children. */
  readonly nodes: TreeNodeView[];
  /** parent → child, one per split part. */
  readonly edges: Array<{ readonly from: string; readonly to: string }>;
  /** The repayments of the tree, in the order they were made. */
  readonly payments: PaymentView[];
  /** The last block the read model has applied. */
  readonly asOfBlock: number;
}

export interface ReceivableGroup {
  readonly status: string;
  readonly currency: string;
  readonly count: number;
  readonly faceValue: string;
  readonly paidAmount: string;
  readonly outstanding: string;
  /** Σ outstanding of those a financing encumbers. */
  readonly financed: string;
}

export interface LiveReceivables {
  readonly currency: string;
  readonly count: number;
  readonly outstanding: string;
  readonly overdue: string;
  readonly defaulted: string;
  readonly financed: string;
  readonly frozen: string;
}

export interface FinancingGroup {
  readonly status: string;
  readonly kind: string;
  readonly currency: string;
  readonly count: number;
  readonly principal: string;
  /** Σ disbursedAmount of those the financier disbursed (whatever became of them since). */
  readonly disbursed: string;
  readonly discount: string;
  readonly interest: string;
  readonly fees: string;
  readonly collected: string;
}

export interface CreditLineGroup {
  readonly status: string;
  readonly currency: string;
  readonly count: number;
  readonly limit: string;
  readonly used: string;
}

export interface ReceiptGroup {
  readonly status: string;
  readonly currency: string;
  readonly count: number;
  readonly value: string;
  /** Σ value of those a financing encumbers. */
  readonly financed: string;
}

export interface LeaseGroup {
  readonly status: string;
  readonly currency: string;
  readonly count: number;
  readonly scheduled: string;
  readonly paid: string;
  readonly outstanding: string;
}

export interface PaymentTotal {
  /** `receivable` (a debtor's repayment, per allocation) or `lease` (a lessee's installment payment). */
  readonly source: string;
  readonly currency: string;
  readonly count: number;
  readonly amount: string;
}

export interface FinancePositions {
  readonly organizationId: string;
  readonly asOfBlock: number;
  /** Receivables it holds. */
  readonly holding: { readonly byStatus: ReceivableGroup[]; readonly live: LiveReceivables[] };
  /** Receivables it owes as debtor (split parents left out: their children carry the debt). */
  readonly owing: { readonly byStatus: ReceivableGroup[]; readonly live: LiveReceivables[] };
  readonly financingsObtained: FinancingGroup[];
  readonly financingsGranted: FinancingGroup[];
  readonly creditLinesReceived: CreditLineGroup[];
  readonly creditLinesGranted: CreditLineGroup[];
  readonly warehouseReceiptsHeld: ReceiptGroup[];
  readonly warehouseReceiptsIssued: ReceiptGroup[];
  readonly leasesAsLessor: LeaseGroup[];
  readonly leasesAsLessee: LeaseGroup[];
  readonly paymentsReceived: PaymentTotal[];
  readonly paymentsMade: PaymentTotal[];
}

export interface DebtorFinancierExposure {
  readonly financier: string;
  readonly receivables: number;
  /** Σ outstanding of the debtor's live receivables this financier's financings encumber. */
  readonly financed: string;
  /** Σ principal of those financings. */
  readonly principal: string;
  /** Σ disbursedAmount of those of them disbursed. */
  readonly disbursed: string;
  readonly creditLines: number;
  readonly creditLimit: string;
  readonly creditUsed: string;
}

export interface DebtorExposure {
  readonly debtor: string;
  readonly currency: string;
  /** Live receivables on it (confirmed, overdue, defaulted leaves). */
  readonly receivables: number;
  /** Σ (faceValue − paidAmount) of those. */
  readonly outstanding: string;
  readonly overdue: string;
  readonly defaulted: string;
  readonly frozen: string;
  /** The part a financing encumbers. */
  readonly financed: string;
  readonly creditLines: number;
  /** Σ limit and Σ used of its credit lines not closed. */
  readonly creditLimit: string;
  readonly creditUsed: string;
  readonly financiers: DebtorFinancierExposure[];
}

export interface FinancierDebtorExposure {
  /** Who pays it back: the receivable's debtor, the lessee of a lease, the applicant of a warehouse-receipt pledge or of a recourse. */
  readonly debtor: string;
  /** Open financings (approved or disbursed). */
  readonly financings: number;
  readonly principal: string;
  readonly disbursed: string;
  readonly collected: string;
  /** Σ principal of financings in recourse (the applicant owes them). */
  readonly recourse: string;
  readonly creditLines: number;
  readonly creditLimit: string;
  readonly creditUsed: string;
}

export interface FinancierExposure {
  readonly financier: string;
  readonly currency: string;
  readonly financings: number;
  readonly principal: string;
  readonly disbursed: string;
  readonly collected: string;
  readonly recourse: string;
  readonly creditLines: number;
  readonly creditLimit: string;
  readonly creditUsed: string;
  readonly debtors: FinancierDebtorExposure[];
}

export interface ExposurePage<T> extends Page<T> {
  readonly asOfBlock: number;
}

type Row = Record<string, unknown>;
type Db = Pool | PoolClient;

const str = (r: Row, f: string): string => (typeof r[f] === 'string' ? (r[f] as string) : '');
const strOrNull = (r: Row, f: string): string | null => (typeof r[f] === 'string' ? (r[f] as string) : null);
const intOrNull = (r: Row, f: string): number | null => (typeof r[f] === 'number' ? (r[f] as number) : null);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const object = (v: unknown): Row | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Row) : null);
const block = (v: unknown): number => Number(v);

function encumbranceOf(v: unknown): EncumbranceView | null {
  const e = object(v);
  return e ? { kind: str(e, 'kind'), financingId: str(e, 'financingId'), financier: str(e, 'financier'), sinceBlock: intOrNull(e, 'sinceBlock') } : null;
}

function freezeOf(v: unknown): FreezeView | null {
  const f = object(v);
  return f ? { by: str(f, 'by'), reason: str(f, 'reason'), orderReference: strOrNull(f, 'orderReference'), atBlock: intOrNull(f, 'atBlock'), at: strOrNull(f, 'at') } : null;
}

const LIVE_ARRAY = `ARRAY[${LIVE_RECEIVABLE_STATUSES.map((s) => `'${s}'`).join(', ')}]::text[]`;
const OPEN_FINANCINGS = `ARRAY[${OPEN_FINANCING_STATUSES.map((s) => `'${s}'`).join(', ')}]::text[]`;
/** A receivable's outstanding (see ReceivableView.outstanding), in SQL. */
const OUTSTANDING = (r: string) => `CASE WHEN ${r}.status IN ('issued', 'confirmed', 'overdue', 'defaulted') THEN ${r}.face_value - ${r}.paid_amount ELSE 0 END`;
/** Σ `expression` (of the rows matching `where`) in numeric, as text; 0 when there is none. */
const sum = (expression: string, where?: string) => `COALESCE(sum(${expression})${where ? ` FILTER (WHERE ${where})` : ''}, 0)::text`;

const RECEIVABLE_COLUMNS = `r.record, r.updated_at_block, r.last_transaction_id, r.face_value::text AS face_value, r.paid_amount::text AS paid_amount, (${OUTSTANDING('r')})::text AS outstanding`;

function toReceivable(row: Row): ReceivableView {
  const r = row['record'] as Row;
  return {
    receivableId: str(r, 'receivableId'),
    rootId: str(r, 'rootId'),
    parentId: strOrNull(r, 'parentId'),
    children: strings(r['children']),
    issuer: str(r, 'issuer'),
    debtor: str(r, 'debtor'),
    holder: str(r, 'holder'),
    currency: str(r, 'currency'),
    faceValue: String(row['face_value']),
    paidAmount: String(row['paid_amount']),
    outstanding: String(row['outstanding']),
    dueDate: str(r, 'dueDate'),
    documents: (Array.isArray(r['documents']) ? (r['documents'] as Row[]) : []).map((d) => ({ docType: str(d, 'docType'), hash: str(d, 'hash'), amount: str(d, 'amount'), eventId: strOrNull(d, 'eventId') })),
    creditLineId: strOrNull(r, 'creditLineId'),
    status: str(r, 'status'),
    encumbrance: encumbranceOf(r['encumbrance']),
    frozen: freezeOf(r['frozen']),
    createdAtBlock: intOrNull(r, 'createdAtBlock'),
    updatedAtBlock: block(row['updated_at_block']),
    lastTransactionId: String(row['last_transaction_id']),
  };
}

const FINANCING_COLUMNS = `f.record, f.updated_at_block, f.last_transaction_id,
  (SELECT COALESCE(sum(a.amount), 0)::text FROM finance.payment_allocations a WHERE a.financing_id = f.financing_id) AS collected`;

function toFinancing(row: Row): FinancingView {
  const f = row['record'] as Row;
  return {
    financingId: str(f, 'financingId'),
    assetKind: str(f, 'assetKind'),
    assetId: str(f, 'assetId'),
    applicant: str(f, 'applicant'),
    financier: str(f, 'financier'),
    kind: str(f, 'kind'),
    recourse: f['recourse'] === true,
    currency: str(f, 'currency'),
    faceValue: str(f, 'faceValue'),
    principal: str(f, 'principal'),
    dueDate: strOrNull(f, 'dueDate'),
    rateBps: intOrNull(f, 'rateBps'),
    dayCount: strOrNull(f, 'dayCount'),
    feeMinor: strOrNull(f, 'feeMinor'),
    discount: strOrNull(f, 'discount'),
    interest: strOrNull(f, 'interest'),
    disbursedAmount: strOrNull(f, 'disbursedAmount'),
    days: intOrNull(f, 'days'),
    approvedOn: strOrNull(f, 'approvedOn'),
    status: str(f, 'status'),
    collected: String(row['collected']),
    paymentReference: strOrNull(f, 'paymentReference'),
    reason: strOrNull(f, 'reason'),
    appliedAtBlock: intOrNull(f, 'appliedAtBlock'),
    decidedAtBlock: intOrNull(f, 'decidedAtBlock'),
    disbursedAtBlock: intOrNull(f, 'disbursedAtBlock'),
    closedAtBlock: intOrNull(f, 'closedAtBlock'),
    updatedAtBlock: block(row['updated_at_block']),
    lastTransactionId: String(row['last_transaction_id']),
  };
}

const CREDIT_LINE_COLUMNS = `c.record, c.updated_at_block, c.last_transaction_id, c.limit_amount::text AS limit_amount, c.used::text AS used,
  (CASE WHEN c.status = 'active' THEN GREATEST(c.limit_amount - c.used, 0) ELSE 0 END)::text AS available`;

function toCreditLine(row: Row): CreditLineView {
  const c = row['record'] as Row;
  return {
    creditLineId: str(c, 'creditLineId'),
    financier: str(c, 'financier'),
    debtor: str(c, 'debtor'),
    currency: str(c, 'currency'),
    limit: String(row['limit_amount']),
    used: String(row['used']),
    available: String(row['available']),
    status: str(c, 'status'),
    expiresOn: strOrNull(c, 'expiresOn'),
    createdAtBlock: intOrNull(c, 'createdAtBlock'),
    updatedAtBlock: block(row['updated_at_block']),
    lastTransactionId: String(row['last_transaction_id']),
  };
}

const PAYMENT_COLUMNS = `p.record, p.last_transaction_id, p.amount::text AS amount,
  (SELECT COALESCE(json_agg(json_build_object('receivableId', a.receivable_id, 'payee', a.payee, 'amount', a.amount::text, 'financingId', a.financing_id) ORDER BY a.position), '[]'::json)
     FROM finance.payment_allocations a WHERE a.payment_id = p.payment_id) AS allocations`;

function toPayment(row: Row): PaymentView {
  const p = row['record'] as Row;
  return {
    paymentId: str(p, 'paymentId'),
    rootId: str(p, 'rootId'),
    debtor: str(p, 'debtor'),
    currency: str(p, 'currency'),
    amount: String(row['amount']),
    paymentReference: strOrNull(p, 'paymentReference'),
    allocations: (row['allocations'] as Row[]).map((a) => ({ receivableId: str(a, 'receivableId'), payee: str(a, 'payee'), amount: str(a, 'amount'), financingId: strOrNull(a, 'financingId') })),
    skippedFrozen: strings(p['skippedFrozen']),
    atBlock: intOrNull(p, 'atBlock'),
    at: strOrNull(p, 'at'),
    lastTransactionId: String(row['last_transaction_id']),
  };
}

const RECEIPT_COLUMNS = 'w.record, w.updated_at_block, w.last_transaction_id';

function toReceipt(row: Row): WarehouseReceiptView {
  const w = row['record'] as Row;
  const goods = object(w['goods']) ?? {};
  const hold = object(w['hold']);
  return {
    receiptId: str(w, 'receiptId'),
    warehouse: str(w, 'warehouse'),
    holder: str(w, 'holder'),
    goods: { item: str(goods, 'item'), quantity: str(goods, 'quantity'), uom: str(goods, 'uom') },
    evidence: strings(w['evidence']),
    currency: str(w, 'currency'),
    value: str(w, 'value'),
    expiresOn: strOrNull(w, 'expiresOn'),
    status: str(w, 'status'),
    hold: hold ? { cause: str(hold, 'cause'), reference: str(hold, 'reference'), by: str(hold, 'by'), atBlock: intOrNull(hold, 'atBlock'), at: strOrNull(hold, 'at') } : null,
    deliveryRequestedAtBlock: intOrNull(w, 'deliveryRequestedAtBlock'),
    parentIds: strings(w['parentIds']),
    childIds: strings(w['childIds']),
    reason: strOrNull(w, 'reason'),
    encumbrance: encumbranceOf(w['encumbrance']),
    frozen: freezeOf(w['frozen']),
    createdAtBlock: intOrNull(w, 'createdAtBlock'),
    closedAtBlock: intOrNull(w, 'closedAtBlock'),
    updatedAtBlock: block(row['updated_at_block']),
    lastTransactionId: String(row['last_transaction_id']),
  };
}

/** A lease's schedule totals, in SQL over its record (`l`). */
const LEASE_TOTALS = (l: string) => `(SELECT COALESCE(sum((i->>'amount')::numeric), 0) FROM jsonb_array_elements(COALESCE(${l}.record->'schedule', '[]'::jsonb)) i) AS scheduled_n,
  (SELECT COALESCE(sum(COALESCE(i->>'paidAmount', '0')::numeric), 0) FROM jsonb_array_elements(COALESCE(${l}.record->'schedule', '[]'::jsonb)) i) AS paid_n`;
const LEASE_COLUMNS = `t.record, t.updated_at_block, t.last_transaction_id, t.scheduled_n::text AS scheduled, t.paid_n::text AS paid,
  (CASE WHEN t.status IN ('active', 'overdue') THEN t.scheduled_n - t.paid_n ELSE 0 END)::text AS outstanding`;

function toLease(row: Row): LeaseView {
  const l = row['record'] as Row;
  const asset = object(l['asset']) ?? {};
  const refinancing = object(l['refinancing']);
  return {
    leaseId: str(l, 'leaseId'),
    lessor: str(l, 'lessor'),
    lessee: str(l, 'lessee'),
    asset: { item: str(asset, 'item'), deviceId: str(asset, 'deviceId'), deviceOrganization: strOrNull(asset, 'deviceOrganization') },
    currency: str(l, 'currency'),
    schedule: (Array.isArray(l['schedule']) ? (l['schedule'] as Row[]) : []).map((i) => ({ dueDate: str(i, 'dueDate'), amount: str(i, 'amount'), paidAmount: strOrNull(i, 'paidAmount') ?? '0' })),
    scheduled: String(row['scheduled']),
    paid: String(row['paid']),
    outstanding: String(row['outstanding']),
    status: str(l, 'status'),
    overdueSince: strOrNull(l, 'overdueSince'),
    refinancing: refinancing ? { receivableId: str(refinancing, 'receivableId'), faceValue: str(refinancing, 'faceValue'), documentHash: str(refinancing, 'documentHash'), atBlock: intOrNull(refinancing, 'atBlock') } : null,
    reason: strOrNull(l, 'reason'),
    encumbrance: encumbranceOf(l['encumbrance']),
    frozen: freezeOf(l['frozen']),
    createdAtBlock: intOrNull(l, 'createdAtBlock'),
    acceptedAtBlock: intOrNull(l, 'acceptedAtBlock'),
    closedAtBlock: intOrNull(l, 'closedAtBlock'),
    updatedAtBlock: block(row['updated_at_block']),
    lastTransactionId: String(row['last_transaction_id']),
  };
}

/** Each parent row with, under `field`, the child rows of its key (without the key's columns): SQL made both, already typed (counts int, amounts text). */
function nest<T>(parents: readonly Row[], children: readonly Row[], key: readonly string[], field: string): T[] {
  return parents.map((p) => ({ ...p, [field]: children.filter((c) => key.every((k) => c[k] === p[k])).map((c) => Object.fromEntries(Object.entries(c).filter(([k]) => !key.includes(k)))) }) as T);
}

/** The lease table with its schedule totals, as `t` (filters and keys keep the alias `l`). */
const LEASES_WITH_TOTALS = (inner: string) => `(SELECT l.*, ${LEASE_TOTALS('l')} FROM (${inner}) l) t`;

/**
 * The read side of finance (docs/finance.md, Queries, positions and
 * exposure): lists and records of every finance asset kind, a receivable's
 * whole certificate tree, an organization's positions and the exposure per
 * debtor and per financier — plain SQL over the read model's typed tables,
 * which hold the network's finance state as this organization's ledger node
 * committed it. Answers that take several statements read one snapshot
 * (REPEATABLE READ), so a block applied meanwhile never shows half.
 */
export class FinanceQueries {
  constructor(private readonly pool: Pool) {}

  private snapshot<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, async (client) => {
      await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      return fn(client);
    });
  }

  private async asOfBlock(db: Db): Promise<number> {
    const { rows } = await db.query<{ last_block: string }>('SELECT last_block FROM finance.projection');
    return rows.length ? Number(rows[0].last_block) : -1;
  }

  /** One page of a list; `idField` is the record's id, the page's key. */
  private async list<T>(kind: ListKind, params: QueryParams, columns: string, to: (row: Row) => T, idField: string, wrap?: (sql: string) => string): Promise<Page<T>> {
    const query = parseListQuery(kind, params);
    const sql = listPageSql(query, columns);
    const { rows } = await this.pool.query<Row>(wrap ? wrap(sql.text) : sql.text, sql.values);
    const page = pageOf(query, rows, (r) => [str(r['record'] as Row, idField)]);
    return { items: page.rows.map(to), nextPageToken: page.nextPageToken };
  }

  /** The one row `sql` selects by `id` ($1), or FINANCE.NOT_FOUND (also for what cannot be a finance id). */
  private async one<T>(what: string, id: string, sql: string, to: (row: Row) => T, db: Db = this.pool): Promise<T> {
    const found = isFinanceId(id) ? (await db.query<Row>(sql, [id])).rows[0] : undefined;
    if (!found) throw FinanceQueryErrors.notFound(what, id);
    return to(found);
  }

  receivables(params: QueryParams): Promise<Page<ReceivableView>> {
    return this.list('receivables', params, RECEIVABLE_COLUMNS, toReceivable, 'receivableId');
  }

  async receivable(receivableId: string): Promise<ReceivableView & { financings: FinancingView[] }> {
    return this.snapshot(async (db) => {
      const receivable = await this.one('receivable', receivableId, `SELECT ${RECEIVABLE_COLUMNS} FROM finance.receivables r WHERE r.receivable_id = $1`, toReceivable, db);
      return { ...receivable, financings: await this.financingsOf(db, [receivableId]) };
    });
  }

  private async financingsOf(db: Db, receivableIds: readonly string[]): Promise<FinancingView[]> {
    const { rows } = await db.query<Row>(`SELECT ${FINANCING_COLUMNS} FROM finance.financings f WHERE f.asset_kind = 'receivable' AND f.asset_id = ANY($1::text[]) ORDER BY f.financing_id`, [receivableIds]);
    return rows.map(toFinancing);
  }

  /** The whole certificate tree `receivableId` belongs to (any node of it), with the financings of every node and the tree's payments. */
  async tree(receivableId: string): Promise<CertificateTree> {
    return this.snapshot(async (db) => {
      const rootId = await this.one('receivable', receivableId, 'SELECT root_id FROM finance.receivables WHERE receivable_id = $1', (r) => String(r['root_id']), db);
      const { rows } = await db.query<Row>(`SELECT ${RECEIVABLE_COLUMNS} FROM finance.receivables r WHERE r.root_id = $1 ORDER BY r.receivable_id`, [rootId]);
      const nodes = new Map(rows.map((row) => [String((row['record'] as Row)['receivableId']), toReceivable(row)]));
      const financings = new Map<string, FinancingView[]>();
      for (const f of await this.financingsOf(db, [...nodes.keys()])) financings.set(f.assetId, [...(financings.get(f.assetId) ?? []), f]);
      const totals = (
        await db.query<{ paid: string; outstanding: string; financed: string }>(
          `SELECT ${sum("r.paid_amount", "r.status <> 'split'")} AS paid,
                  ${sum(`r.face_value - r.paid_amount`, `r.status = ANY(${LIVE_ARRAY})`)} AS outstanding,
                  ${sum(`r.face_value - r.paid_amount`, `r.status = ANY(${LIVE_ARRAY}) AND r.encumbrance_financing_id IS NOT NULL`)} AS financed
             FROM finance.receivables r WHERE r.root_id = $1`,
          [rootId],
        )
      ).rows[0];
      const payments = (await db.query<Row>(`SELECT ${PAYMENT_COLUMNS} FROM finance.payments p WHERE p.root_id = $1 ORDER BY p.updated_at_block, p.payment_id`, [rootId])).rows.map(toPayment);
      // Breadth first from the root, each parent's children in the order its split listed them.
      const ordered: TreeNodeView[] = [];
      const edges: Array<{ from: string; to: string }> = [];
      const rootNode = nodes.get(rootId);
      const queue: Array<[ReceivableView, number]> = rootNode ? [[rootNode, 0]] : [];
      const seen = new Set<string>();
      while (queue.length > 0) {
        const [node, depth] = queue.shift() as [ReceivableView, number];
        if (seen.has(node.receivableId)) continue;
        seen.add(node.receivableId);
        ordered.push({ ...node, depth, financings: financings.get(node.receivableId) ?? [] });
        for (const child of node.children) {
          const c = nodes.get(child);
          if (!c) continue;
          edges.push({ from: node.receivableId, to: child });
          queue.push([c, depth + 1]);
        }
      }
      // A node the walk did not reach (a child written in a later block than its parent's record, mid-rebuild) is still shown, unlinked.
      for (const node of nodes.values()) if (!seen.has(node.receivableId)) ordered.push({ ...node, depth: -1, financings: financings.get(node.receivableId) ?? [] });
      const top = rootNode ?? ordered[0];
      return {
        rootId,
        receivableId,
        currency: top.currency,
        debtor: top.debtor,
        issuer: top.issuer,
        dueDate: top.dueDate,
        faceValue: top.faceValue,
        paid: totals.paid,
        outstanding: totals.outstanding,
        financed: totals.financed,
        nodes: ordered,
        edges,
        payments,
        asOfBlock: await this.asOfBlock(db),
      };
    });
  }

  financings(params: QueryParams): Promise<Page<FinancingView>> {
    return this.list('financings', params, FINANCING_COLUMNS, toFinancing, 'financingId');
  }

  financing(financingId: string): Promise<FinancingView> {
    return this.one('financing', financingId, `SELECT ${FINANCING_COLUMNS} FROM finance.financings f WHERE f.financing_id = $1`, toFinancing);
  }

  creditLines(params: QueryParams): Promise<Page<CreditLineView>> {
    return this.list('credit-lines', params, CREDIT_LINE_COLUMNS, toCreditLine, 'creditLineId');
  }

  creditLine(creditLineId: string): Promise<CreditLineView> {
    return this.one('credit line', creditLineId, `SELECT ${CREDIT_LINE_COLUMNS} FROM finance.credit_lines c WHERE c.credit_line_id = $1`, toCreditLine);
  }

  payments(params: QueryParams): Promise<Page<PaymentView>> {
    return this.list('payments', params, PAYMENT_COLUMNS, toPayment, 'paymentId');
  }

  payment(paymentId: string): Promise<PaymentView> {
    return this.one('payment', paymentId, `SELECT ${PAYMENT_COLUMNS} FROM finance.payments p WHERE p.payment_id = $1`, toPayment);
  }

  warehouseReceipts(params: QueryParams): Promise<Page<WarehouseReceiptView>> {
    return this.list('warehouse-receipts', params, RECEIPT_COLUMNS, toReceipt, 'receiptId');
  }

  warehouseReceipt(receiptId: string): Promise<WarehouseReceiptView> {
    return this.one('warehouse receipt', receiptId, `SELECT ${RECEIPT_COLUMNS} FROM finance.warehouse_receipts w WHERE w.receipt_id = $1`, toReceipt);
  }

  async leases(params: QueryParams): Promise<Page<LeaseView>> {
    // The page is chosen on the table itself (its filters and key), then its schedule totals are added.
    return this.list('leases', params, 'l.*', toLease, 'leaseId', (sql) => `SELECT ${LEASE_COLUMNS} FROM ${LEASES_WITH_TOTALS(sql)} ORDER BY t.lease_id`);
  }

  async lease(leaseId: string): Promise<LeaseView> {
    return this.snapshot(async (db) => {
      const lease = await this.one('lease', leaseId, `SELECT ${LEASE_COLUMNS} FROM ${LEASES_WITH_TOTALS('SELECT * FROM finance.leases WHERE lease_id = $1')}`, toLease, db);
      const { rows } = await db.query<Row>('SELECT record, amount::text AS amount FROM finance.lease_payments WHERE lease_id = $1 ORDER BY updated_at_block, payment_id', [leaseId]);
      const payments = rows.map((row) => {
        const p = row['record'] as Row;
        return {
          paymentId: str(p, 'paymentId'),
          amount: String(row['amount']),
          allocations: (Array.isArray(p['allocations']) ? (p['allocations'] as Row[]) : []).map((a) => ({ dueDate: str(a, 'dueDate'), amount: str(a, 'amount') })),
          atBlock: intOrNull(p, 'atBlock'),
          at: strOrNull(p, 'at'),
        };
      });
      return { ...lease, payments };
    });
  }

  /** What `organizationId` holds, owes, financed and was financed, as the read model stands (see FinancePositions). */
  async positions(organizationId: string): Promise<FinancePositions> {
    const org = organizationOf('organizationId', organizationId);
    return this.snapshot(async (db) => {
      const receivableGroups = async (column: 'holder' | 'debtor', extra = '') =>
        (
          await db.query<ReceivableGroup>(
            `SELECT r.status, r.currency, count(*)::int AS count, ${sum('r.face_value')} AS "faceValue", ${sum('r.paid_amount')} AS "paidAmount",
                    ${sum(OUTSTANDING('r'))} AS outstanding, ${sum(OUTSTANDING('r'), 'r.encumbrance_financing_id IS NOT NULL')} AS financed
               FROM finance.receivables r WHERE r.${column} = $1 ${extra} GROUP BY r.status, r.currency ORDER BY r.currency, r.status`,
            [org],
          )
        ).rows;
      const live = async (column: 'holder' | 'debtor') =>
        (
          await db.query<LiveReceivables>(
            `SELECT r.currency, count(*)::int AS count, ${sum('r.face_value - r.paid_amount')} AS outstanding,
                    ${sum(`r.face_value - r.paid_amount`, `r.status = 'overdue'`)} AS overdue,
                    ${sum(`r.face_value - r.paid_amount`, `r.status = 'defaulted'`)} AS defaulted,
                    ${sum(`r.face_value - r.paid_amount`, `r.encumbrance_financing_id IS NOT NULL`)} AS financed,
                    ${sum(`r.face_value - r.paid_amount`, `r.frozen`)} AS frozen
               FROM finance.receivables r WHERE r.${column} = $1 AND r.status = ANY(${LIVE_ARRAY}) GROUP BY r.currency ORDER BY r.currency`,
            [org],
          )
        ).rows;
      const financingGroups = async (column: 'applicant' | 'financier') =>
        (
          await db.query<FinancingGroup>(
            `SELECT f.status, f.kind, f.currency, count(*)::int AS count, ${sum('f.principal')} AS principal,
                    ${sum('f.disbursed_amount', "jsonb_typeof(f.record->'disbursedAtBlock') = 'number'")} AS disbursed,
                    ${sum('f.discount')} AS discount, ${sum('f.interest')} AS interest, ${sum('f.fee_minor')} AS fees,
                    ${sum('(SELECT sum(a.amount) FROM finance.payment_allocations a WHERE a.financing_id = f.financing_id)')} AS collected
               FROM finance.financings f WHERE f.${column} = $1 GROUP BY f.status, f.kind, f.currency ORDER BY f.currency, f.kind, f.status`,
            [org],
          )
        ).rows;
      const creditLineGroups = async (column: 'debtor' | 'financier') =>
        (
          await db.query<CreditLineGroup>(
            `SELECT c.status, c.currency, count(*)::int AS count, ${sum('c.limit_amount')} AS "limit", ${sum('c.used')} AS used
               FROM finance.credit_lines c WHERE c.${column} = $1 GROUP BY c.status, c.currency ORDER BY c.currency, c.status`,
            [org],
          )
        ).rows;
      const receiptGroups = async (column: 'holder' | 'warehouse') =>
        (
          await db.query<ReceiptGroup>(
            `SELECT w.status, w.currency, count(*)::int AS count, ${sum('w.value')} AS value, ${sum('w.value', 'w.encumbrance_financing_id IS NOT NULL')} AS financed
               FROM finance.warehouse_receipts w WHERE w.${column} = $1 GROUP BY w.status, w.currency ORDER BY w.currency, w.status`,
            [org],
          )
        ).rows;
      const leaseGroups = async (column: 'lessor' | 'lessee') =>
        (
          await db.query<LeaseGroup>(
            `SELECT t.status, t.currency, count(*)::int AS count, ${sum('t.scheduled_n')} AS scheduled, ${sum('t.paid_n')} AS paid,
                    ${sum("CASE WHEN t.status IN ('active', 'overdue') THEN t.scheduled_n - t.paid_n ELSE 0 END")} AS outstanding
               FROM ${LEASES_WITH_TOTALS(`SELECT * FROM finance.leases WHERE ${column} = $1`)} GROUP BY t.status, t.currency ORDER BY t.currency, t.status`,
            [org],
          )
        ).rows;
      const paymentsReceived = (
        await db.query<PaymentTotal>(
          `SELECT 'receivable' AS source, p.currency, count(*)::int AS count, ${sum('a.amount')} AS amount
             FROM finance.payment_allocations a JOIN finance.payments p USING (payment_id) WHERE a.payee = $1 GROUP BY p.currency
           UNION ALL
           SELECT 'lease', lp.currency, count(*)::int, ${sum('lp.amount')}
             FROM finance.lease_payments lp JOIN finance.leases l USING (lease_id) WHERE l.lessor = $1 GROUP BY lp.currency
           ORDER BY source DESC, currency`,
          [org],
        )
      ).rows;
      const paymentsMade = (
        await db.query<PaymentTotal>(
          `SELECT 'receivable' AS source, p.currency, count(*)::int AS count, ${sum('p.amount')} AS amount FROM finance.payments p WHERE p.debtor = $1 GROUP BY p.currency
           UNION ALL
           SELECT 'lease', lp.currency, count(*)::int, ${sum('lp.amount')} FROM finance.lease_payments lp WHERE lp.lessee = $1 GROUP BY lp.currency
           ORDER BY source DESC, currency`,
          [org],
        )
      ).rows;
      return {
        organizationId: org,
        asOfBlock: await this.asOfBlock(db),
        holding: { byStatus: await receivableGroups('holder'), live: await live('holder') },
        owing: { byStatus: await receivableGroups('debtor', "AND r.status <> 'split'"), live: await live('debtor') },
        financingsObtained: await financingGroups('applicant'),
        financingsGranted: await financingGroups('financier'),
        creditLinesReceived: await creditLineGroups('debtor'),
        creditLinesGranted: await creditLineGroups('financier'),
        warehouseReceiptsHeld: await receiptGroups('holder'),
        warehouseReceiptsIssued: await receiptGroups('warehouse'),
        leasesAsLessor: await leaseGroups('lessor'),
        leasesAsLessee: await leaseGroups('lessee'),
        paymentsReceived,
        paymentsMade,
      };
    });
  }

  /** Per debtor and currency: its live receivables, the part financed and by whom, and its credit lines (see DebtorExposure). */
  async debtorExposure(params: QueryParams): Promise<ExposurePage<DebtorExposure>> {
    const query = parseListQuery('debtor-exposure', params);
    return this.snapshot(async (db) => {
      const keys = await this.exposureKeys(db, query, 'debtor');
      const page = `page AS (SELECT * FROM unnest($1::text[], $2::text[]) AS p(debtor, currency))`;
      const live = `live AS (SELECT r.debtor, r.currency, r.status, r.frozen, r.encumbrance_financier AS financier, r.encumbrance_financing_id AS financing_id, r.face_value - r.paid_amount AS outstanding
                               FROM finance.receivables r JOIN page USING (debtor, currency) WHERE r.status = ANY(${LIVE_ARRAY}))`;
      const lines = `lines AS (SELECT c.debtor, c.currency, c.financier, count(*)::int AS n, sum(c.limit_amount) AS lim, sum(c.used) AS used
                                 FROM finance.credit_lines c JOIN page USING (debtor, currency) WHERE c.status <> 'closed' GROUP BY 1, 2, 3)`;
      const values = [keys.rows.map((k) => k[0]), keys.rows.map((k) => k[1])];
      const totals = (
        await db.query<Row>(
          `WITH ${page}, ${live}, ${lines},
                agg AS (SELECT debtor, currency, count(*)::int AS n, sum(outstanding) AS outstanding,
                               sum(outstanding) FILTER (WHERE status = 'overdue') AS overdue, sum(outstanding) FILTER (WHERE status = 'defaulted') AS defaulted,
                               sum(outstanding) FILTER (WHERE frozen) AS frozen, sum(outstanding) FILTER (WHERE financing_id IS NOT NULL) AS financed
                          FROM live GROUP BY 1, 2),
                credit AS (SELECT debtor, currency, sum(n)::int AS n, sum(lim) AS lim, sum(used) AS used FROM lines GROUP BY 1, 2)
           SELECT p.debtor, p.currency, COALESCE(agg.n, 0) AS receivables, COALESCE(agg.outstanding, 0)::text AS outstanding, COALESCE(agg.overdue, 0)::text AS overdue,
                  COALESCE(agg.defaulted, 0)::text AS defaulted, COALESCE(agg.frozen, 0)::text AS frozen, COALESCE(agg.financed, 0)::text AS financed,
                  COALESCE(credit.n, 0) AS "creditLines", COALESCE(credit.lim, 0)::text AS "creditLimit", COALESCE(credit.used, 0)::text AS "creditUsed"
             FROM page p LEFT JOIN agg USING (debtor, currency) LEFT JOIN credit USING (debtor, currency) ORDER BY p.debtor, p.currency`,
          values,
        )
      ).rows;
      const perFinancier = (
        await db.query<Row>(
          `WITH ${page}, ${live}, ${lines},
                fin AS (SELECT l.debtor, l.currency, l.financier, count(*)::int AS n, sum(l.outstanding) AS financed, COALESCE(sum(f.principal), 0) AS principal,
                               COALESCE(sum(f.disbursed_amount) FILTER (WHERE f.status = 'disbursed'), 0) AS disbursed
                          FROM live l LEFT JOIN finance.financings f ON f.financing_id = l.financing_id WHERE l.financier IS NOT NULL GROUP BY 1, 2, 3)
           SELECT COALESCE(fin.debtor, lines.debtor) AS debtor, COALESCE(fin.currency, lines.currency) AS currency, COALESCE(fin.financier, lines.financier) AS financier,
                  COALESCE(fin.n, 0) AS receivables, COALESCE(fin.financed, 0)::text AS financed, COALESCE(fin.principal, 0)::text AS principal, COALESCE(fin.disbursed, 0)::text AS disbursed,
                  COALESCE(lines.n, 0) AS "creditLines", COALESCE(lines.lim, 0)::text AS "creditLimit", COALESCE(lines.used, 0)::text AS "creditUsed"
             FROM fin FULL JOIN lines ON fin.debtor = lines.debtor AND fin.currency = lines.currency AND fin.financier = lines.financier
            ORDER BY 1, 2, 3`,
          values,
        )
      ).rows;
      const items = nest<DebtorExposure>(totals, perFinancier, ['debtor', 'currency'], 'financiers');
      return { items, nextPageToken: keys.nextPageToken, asOfBlock: await this.asOfBlock(db) };
    });
  }

  /** Per financier and currency: its open financings per debtor (principal, disbursed, collected), recourse claims and credit lines (see FinancierExposure). */
  async financierExposure(params: QueryParams): Promise<ExposurePage<FinancierExposure>> {
    const query = parseListQuery('financier-exposure', params);
    return this.snapshot(async (db) => {
      const keys = await this.exposureKeys(db, query, 'financier');
      const values = [keys.rows.map((k) => k[0]), keys.rows.map((k) => k[1])];
      // Who pays a financing back: the receivable's debtor (its repayment goes to the financier), a lease's lessee, else — and on recourse — the applicant.
      const merged = `WITH page AS (SELECT * FROM unnest($1::text[], $2::text[]) AS p(financier, currency)),
          fin AS (SELECT f.financier, f.currency, f.status, f.principal, f.disbursed_amount,
                         CASE WHEN f.status = 'recourse' THEN f.applicant ELSE COALESCE(r.debtor, l.lessee, f.applicant) END AS debtor,
                         (SELECT COALESCE(sum(a.amount), 0) FROM finance.payment_allocations a WHERE a.financing_id = f.financing_id) AS collected
                    FROM finance.financings f JOIN page USING (financier, currency)
                    LEFT JOIN finance.receivables r ON f.asset_kind = 'receivable' AND r.receivable_id = f.asset_id
                    LEFT JOIN finance.leases l ON f.asset_kind = 'lease' AND l.lease_id = f.asset_id
                   WHERE f.status = ANY(${OPEN_FINANCINGS}) OR f.status = 'recourse'),
          by_debtor AS (SELECT financier, currency, debtor, count(*) FILTER (WHERE status = ANY(${OPEN_FINANCINGS}))::int AS n,
                               COALESCE(sum(principal) FILTER (WHERE status = ANY(${OPEN_FINANCINGS})), 0) AS principal,
                               COALESCE(sum(disbursed_amount) FILTER (WHERE status = 'disbursed'), 0) AS disbursed,
                               COALESCE(sum(collected) FILTER (WHERE status = ANY(${OPEN_FINANCINGS})), 0) AS collected,
                               COALESCE(sum(principal) FILTER (WHERE status = 'recourse'), 0) AS recourse
                          FROM fin GROUP BY 1, 2, 3),
          lines AS (SELECT c.financier, c.currency, c.debtor, count(*)::int AS n, sum(c.limit_amount) AS lim, sum(c.used) AS used
                      FROM finance.credit_lines c JOIN page USING (financier, currency) WHERE c.status <> 'closed' GROUP BY 1, 2, 3),
          merged AS (SELECT COALESCE(b.financier, c.financier) AS financier, COALESCE(b.currency, c.currency) AS currency, COALESCE(b.debtor, c.debtor) AS debtor,
                            COALESCE(b.n, 0) AS n, COALESCE(b.principal, 0) AS principal, COALESCE(b.disbursed, 0) AS disbursed, COALESCE(b.collected, 0) AS collected,
                            COALESCE(b.recourse, 0) AS recourse, COALESCE(c.n, 0) AS lines, COALESCE(c.lim, 0) AS lim, COALESCE(c.used, 0) AS used
                       FROM by_debtor b FULL JOIN lines c ON b.financier = c.financier AND b.currency = c.currency AND b.debtor = c.debtor)`;
      const rows = (
        await db.query<Row>(
          `${merged} SELECT financier, currency, debtor, n AS financings, principal::text, disbursed::text, collected::text, recourse::text,
                             lines AS "creditLines", lim::text AS "creditLimit", used::text AS "creditUsed" FROM merged ORDER BY 1, 2, 3`,
          values,
        )
      ).rows;
      const totals = (
        await db.query<Row>(
          `${merged} SELECT p.financier, p.currency, COALESCE(sum(m.n), 0)::int AS financings, ${sum('m.principal')} AS principal, ${sum('m.disbursed')} AS disbursed, ${sum('m.collected')} AS collected,
                    ${sum('m.recourse')} AS recourse, COALESCE(sum(m.lines), 0)::int AS "creditLines", ${sum('m.lim')} AS "creditLimit", ${sum('m.used')} AS "creditUsed"
               FROM page p LEFT JOIN merged m USING (financier, currency) GROUP BY p.financier, p.currency ORDER BY p.financier, p.currency`,
          values,
        )
      ).rows;
      const items = nest<FinancierExposure>(totals, rows, ['financier', 'currency'], 'debtors');
      return { items, nextPageToken: keys.nextPageToken, asOfBlock: await this.asOfBlock(db) };
    });
  }

  /** The (party, currency) pairs of one exposure page, in key order. */
  private async exposureKeys(db: Db, query: ListQuery, party: 'debtor' | 'financier'): Promise<{ rows: Array<[string, string]>; nextPageToken: string | null }> {
    const sql = listPageSql(query, `k.${party}, k.currency`);
    const { rows } = await db.query<Row>(sql.text, sql.values);
    const page = pageOf(query, rows, (r) => [String(r[party]), String(r['currency'])]);
    return { rows: page.rows.map((r) => [String(r[party]), String(r['currency'])]), nextPageToken: page.nextPageToken };
  }
}
