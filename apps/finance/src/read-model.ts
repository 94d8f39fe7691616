import { type FinanceRecordChangedV1, type TopicDefinition, Topics } from '@alliance/contracts';
import type { JsonValue } from '@alliance/protocol';
import { type ApplyOutcome, type BlockProjection, ChainStateMirror, type CommittedBlock, type CommittedTransaction, type CommittedWrite, type Outbox, ProjectionCursor, type ProjectionPosition } from '@alliance/shared/data-access-messaging';
import { type Pool, type PoolClient, withTransaction } from '@alliance/shared/data-access-postgres';

/** The record kinds under `finance/<kind>/<id>` the read model projects and announces. */
export type FinanceRecordKind = 'receivable' | 'financing' | 'credit-line' | 'payment' | 'warehouse-receipt' | 'lease' | 'lease-payment' | 'document';

type Row = Record<string, unknown>;
type Column = readonly [name: string, sqlType: string, of: (record: Row) => unknown];

interface KindSpec {
  readonly table: string;
  /** Primary key columns, taken from the id (the key after `finance/<kind>/`). */
  readonly key: ReadonlyArray<readonly [name: string, of: (id: string) => string]>;
  readonly columns: readonly Column[];
  readonly topic: TopicDefinition<FinanceRecordChangedV1>;
}

const text = (field: string) => (r: Row) => (typeof r[field] === 'string' ? r[field] : null);
/** A text field of a nested object (`goods.item`, `asset.deviceId`). */
const nested = (object: string, field: string) => (r: Row) => {
  const inner = r[object] as Row | null | undefined;
  return inner && typeof inner[field] === 'string' ? inner[field] : null;
};
const amount = text;
const int = (field: string) => (r: Row) => (typeof r[field] === 'number' ? r[field] : null);
const bool = (field: string) => (r: Row) => (typeof r[field] === 'boolean' ? r[field] : null);
const encumbrance = (field: 'kind' | 'financingId' | 'financier') => (r: Row) => {
  const e = r['encumbrance'] as Row | null | undefined;
  return e && typeof e[field] === 'string' ? e[field] : null;
};

/** Columns every asset record (receivable, warehouse receipt, lease) has: its status and both locks. */
const ASSET_COLUMNS: readonly Column[] = [
  ['status', 'text', text('status')],
  ['encumbrance_kind', 'text', encumbrance('kind')],
  ['encumbrance_financing_id', 'text', encumbrance('financingId')],
  ['encumbrance_financier', 'text', encumbrance('financier')],
  ['frozen', 'boolean', (r) => r['frozen'] !== null && r['frozen'] !== undefined],
  ['created_at_block', 'bigint', int('createdAtBlock')],
];
const single = (name: string) => [[name, (id: string) => id]] as const;

export const FINANCE_KINDS: Readonly<Record<FinanceRecordKind, KindSpec>> = {
  receivable: {
    table: 'finance.receivables',
    key: single('receivable_id'),
    topic: Topics.financeReceivableChanged,
    columns: [
      ['root_id', 'text', text('rootId')],
      ['parent_id', 'text', text('parentId')],
      ['issuer', 'text', text('issuer')],
      ['debtor', 'text', text('debtor')],
      ['holder', 'text', text('holder')],
      ['currency', 'text', text('currency')],
      ['face_value', 'numeric', amount('faceValue')],
      ['paid_amount', 'numeric', (r) => amount('paidAmount')(r) ?? '0'],
      ['due_date', 'date', text('dueDate')],
      ['credit_line_id', 'text', text('creditLineId')],
      ...ASSET_COLUMNS,
    ],
  },
  financing: {
    table: 'finance.financings',
    key: single('financing_id'),
    topic: Topics.financeFinancingChanged,
    columns: [
      ['asset_kind', 'text', text('assetKind')],
      ['asset_id', 'text', text('assetId')],
      ['applicant', 'text', text('applicant')],
      ['financier', 'text', text('financier')],
      ['kind', 'text', text('kind')],
      ['recourse', 'boolean', bool('recourse')],
      ['currency', 'text', text('currency')],
      ['face_value', 'numeric', amount('faceValue')],
      ['principal', 'numeric', amount('principal')],
      ['rate_bps', 'integer', int('rateBps')],
      ['day_count', 'text', text('dayCount')],
      ['fee_minor', 'numeric', amount('feeMinor')],
      ['discount', 'numeric', amount('discount')],
      ['interest', 'numeric', amount('interest')],
      ['disbursed_amount', 'numeric', amount('disbursedAmount')],
      ['status', 'text', text('status')],
    ],
  },
  'credit-line': {
    table: 'finance.credit_lines',
    key: single('credit_line_id'),
    topic: Topics.financeCreditLineChanged,
    columns: [
      ['financier', 'text', text('financier')],
      ['debtor', 'text', text('debtor')],
      ['currency', 'text', text('currency')],
      ['limit_amount', 'numeric', amount('limit')],
      ['used', 'numeric', amount('used')],
      ['status', 'text', text('status')],
      ['expires_on', 'date', text('expiresOn')],
    ],
  },
  payment: {
    table: 'finance.payments',
    key: single('payment_id'),
    topic: Topics.financePaymentChanged,
    columns: [
      ['root_id', 'text', text('rootId')],
      ['debtor', 'text', text('debtor')],
      ['currency', 'text', text('currency')],
      ['amount', 'numeric', amount('amount')],
      ['at', 'timestamptz', text('at')],
    ],
  },
  'warehouse-receipt': {
    table: 'finance.warehouse_receipts',
    key: single('receipt_id'),
    topic: Topics.financeWarehouseReceiptChanged,
    columns: [
      ['warehouse', 'text', text('warehouse')],
      ['holder', 'text', text('holder')],
      ['goods_item', 'text', nested('goods', 'item')],
      ['currency', 'text', text('currency')],
      ['value', 'numeric', amount('value')],
      ['expires_on', 'date', text('expiresOn')],
      ...ASSET_COLUMNS,
    ],
  },
  lease: {
    table: 'finance.leases',
    key: single('lease_id'),
    topic: Topics.financeLeaseChanged,
    columns: [
      ['lessor', 'text', text('lessor')],
      ['lessee', 'text', text('lessee')],
      ['asset_item', 'text', nested('asset', 'item')],
      ['device_id', 'text', nested('asset', 'deviceId')],
      ['currency', 'text', text('currency')],
      ['overdue_since', 'date', text('overdueSince')],
      ...ASSET_COLUMNS,
    ],
  },
  'lease-payment': {
    table: 'finance.lease_payments',
    key: single('payment_id'),
    topic: Topics.financeLeasePaymentChanged,
    columns: [
      ['lease_id', 'text', text('leaseId')],
      ['lessee', 'text', text('lessee')],
      ['currency', 'text', text('currency')],
      ['amount', 'numeric', amount('amount')],
      ['at', 'timestamptz', text('at')],
    ],
  },
  document: {
    table: 'finance.documents',
    // `finance/document/<docType>/<sha256hex>`
    key: [
      ['doc_type', (id) => id.slice(0, id.indexOf('/'))],
      ['hash', (id) => id.slice(id.indexOf('/') + 1)],
    ],
    topic: Topics.financeDocumentChanged,
    columns: [
      ['currency', 'text', text('currency')],
      ['amount', 'numeric', amount('amount')],
      ['backed', 'numeric', (r) => amount('backed')(r) ?? '0'],
      ['receivables', 'text[]', (r) => (Array.isArray(r['receivables']) ? r['receivables'].filter((x) => typeof x === 'string') : [])],
    ],
  },
};

const KIND_OF_SEGMENT = new Map<string, FinanceRecordKind>(Object.keys(FINANCE_KINDS).map((k) => [k, k as FinanceRecordKind]));

/** The kind and id of a `finance/<kind>/<id>` key the read model projects, or undefined (lot index entries and the like). */
export function financeKeyOf(key: string): { kind: FinanceRecordKind; id: string } | undefined {
  const match = /^finance\/([a-z-]+)\/(.+)$/.exec(key);
  const kind = match ? KIND_OF_SEGMENT.get(match[1]) : undefined;
  if (!match || !kind) return undefined;
  if (kind === 'document' && !match[2].includes('/')) return undefined;
  return { kind, id: match[2] };
}

export const financeRecordKey = (kind: FinanceRecordKind, id: string) => `finance/${kind}/${id}`;

const statusOf = (value: JsonValue | null | undefined): string | null => {
  const status = value && typeof value === 'object' && !Array.isArray(value) ? (value as Row)['status'] : undefined;
  return typeof status === 'string' ? status : null;
};

export interface FinanceReadModelOptions {
  readonly pool: Pool;
  readonly chainId: string;
  readonly nodeId: string;
  /** Called in the transaction that applied a block (the command store marks its transactions' verdicts). */
  readonly onApplied?: (client: PoolClient, block: CommittedBlock) => Promise<void>;
}

/**
 * The finance read model in PostgreSQL (schema `finance`, docs/finance.md,
 * The finance service): every `finance/` record of this organization's node
 * mirrored (`chain_state`, with its history) and each record kind projected
 * into a typed table, built from committed blocks alone. Blocks are applied
 * strictly in order, each in one transaction with the position, so a crash
 * leaves it at a block boundary and a redelivered block is a no-op. Each write
 * of a record is announced on `finance.<kind>.changed.v1` through the outbox
 * in that transaction, the first time its block is applied.
 */
export class FinanceReadModel implements BlockProjection {
  readonly state: ChainStateMirror;
  private readonly cursor: ProjectionCursor;
  private outbox: Outbox | undefined;

  constructor(private readonly options: FinanceReadModelOptions) {
    this.state = new ChainStateMirror({ pool: options.pool, schema: 'finance', mirrored: (key) => key.startsWith('finance/') });
    this.cursor = new ProjectionCursor({ pool: options.pool, schema: 'finance', service: 'FINANCE', chainId: options.chainId, nodeId: options.nodeId });
  }

  /** The service's outbox (absent: nothing is announced); handed over before the follower applies a block. */
  publishThrough(outbox: Outbox | undefined): this {
    this.outbox = outbox;
    return this;
  }

  position(client: Pool | PoolClient = this.options.pool): Promise<ProjectionPosition> {
    return this.cursor.position(client);
  }

  lastBlock(): Promise<number> {
    return this.cursor.lastBlock();
  }

  apply(block: CommittedBlock, client?: PoolClient): Promise<ApplyOutcome> {
    return client ? this.applyWith(client, block) : withTransaction(this.options.pool, (c) => this.applyWith(c, block));
  }

  private async applyWith(client: PoolClient, block: CommittedBlock): Promise<ApplyOutcome> {
    const opened = await this.cursor.open(client, block);
    if (typeof opened === 'string') return opened;
    const publish = this.outbox !== undefined && opened.publish;

    const writes = this.state.writesOf(block);
    const records = writes.map((w) => ({ ...w, target: financeKeyOf(w.write.key) })).filter((w): w is { tx: CommittedTransaction; write: CommittedWrite; target: { kind: FinanceRecordKind; id: string } } => w.target !== undefined);
    if (publish && records.length > 0) await this.announce(client, block, records);
    await this.state.mirror(client, block, writes);
    // The last write of a record in the block is its row after the block.
    const lastOf = new Map<string, (typeof records)[number]>();
    for (const r of records) lastOf.set(r.write.key, r);
    for (const r of lastOf.values()) await this.project(client, r.target.kind, r.target.id, r.write.value, block, r.tx);
    await this.cursor.advance(client, block);
    await this.options.onApplied?.(client, block);
    return 'applied';
  }

  /** One event per record write, in transaction order, with the status the record had before that write (an earlier write of the block included). */
  private async announce(client: PoolClient, block: CommittedBlock, records: ReadonlyArray<{ tx: CommittedTransaction; write: CommittedWrite; target: { kind: FinanceRecordKind; id: string } }>): Promise<void> {
    const outbox = this.outbox as Outbox;
    const { rows } = await client.query<{ key: string; status: string | null }>(`SELECT key, value->>'status' AS status FROM finance.chain_state WHERE key = ANY($1::text[])`, [[...new Set(records.map((r) => r.write.key))]]);
    const statuses = new Map<string, string | null>(rows.map((r) => [r.key, r.status]));
    for (const { tx, write, target } of records) {
      const status = statusOf(write.value);
      const record = write.value && typeof write.value === 'object' && !Array.isArray(write.value) ? (write.value as Record<string, unknown>) : null;
      await outbox.enqueue(
        client,
        FINANCE_KINDS[target.kind].topic,
        { chainId: block.chainId, blockNumber: block.blockNumber, transactionId: tx.transactionId, transactionType: tx.type ?? 'unknown', key: write.key, id: target.id, previousStatus: statuses.get(write.key) ?? null, status, record },
        { key: write.key, correlationId: `block-${block.blockNumber}`, causationId: tx.transactionId, producer: 'finance' },
      );
      statuses.set(write.key, status);
    }
  }

  private async project(client: PoolClient, kind: FinanceRecordKind, id: string, value: JsonValue, block: CommittedBlock, tx: CommittedTransaction): Promise<void> {
    const spec = FINANCE_KINDS[kind];
    const keyValues = spec.key.map(([, of]) => of(id));
    const where = spec.key.map(([name], i) => `${name} = $${i + 1}`).join(' AND ');
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      await client.query(`DELETE FROM ${spec.table} WHERE ${where}`, keyValues);
      return;
    }
    const record = value as Row;
    const columns: Array<readonly [string, string, unknown]> = [
      ...spec.key.map(([name], i) => [name, 'text', keyValues[i]] as const),
      ...spec.columns.map(([name, type, of]) => [name, type, of(record)] as const),
      ['record', 'jsonb', JSON.stringify(record)],
      ['updated_at_block', 'bigint', block.blockNumber],
      ['last_transaction_id', 'text', tx.transactionId],
    ];
    const names = columns.map(([name]) => name);
    await client.query(
      `INSERT INTO ${spec.table} (${names.join(', ')}) VALUES (${columns.map(([, type], i) => `$${i + 1}::${type}`).join(', ')})
       ON CONFLICT (${spec.key.map(([name]) => name).join(', ')}) DO UPDATE SET ${names.filter((n) => !spec.key.some(([k]) => k === n)).map((n) => `${n} = EXCLUDED.${n}`).join(', ')}`,
      columns.map(([, , v]) => v),
    );
    if (kind === 'payment') await projectAllocations(client, id, record);
  }

  /** The current value of a mirrored `finance/` record, or null. */
  record<T = JsonValue>(key: string, client: Pool | PoolClient = this.options.pool): Promise<T | null> {
    return this.state.record<T>(key, client);
  }

  /** Empties the read model; the next catch-up rebuilds it from block 0 (nothing is announced again). */
  async reset(): Promise<void> {
    const tables = [...new Set(Object.values(FINANCE_KINDS).map((k) => k.table))];
    await withTransaction(this.options.pool, (client) =>
      this.cursor.rewind(client, async (c) => {
        await c.query(`TRUNCATE finance.payment_allocations, ${tables.join(', ')}, ${this.state.tables.join(', ')}`);
      }),
    );
  }
}

/** A payment's allocations, one row each in the record's order. */
async function projectAllocations(client: PoolClient, paymentId: string, record: Row): Promise<void> {
  await client.query('DELETE FROM finance.payment_allocations WHERE payment_id = $1', [paymentId]);
  const allocations = (Array.isArray(record['allocations']) ? record['allocations'] : []) as Row[];
  if (allocations.length === 0) return;
  await client.query(
    `INSERT INTO finance.payment_allocations (payment_id, position, receivable_id, payee, amount, financing_id)
     SELECT $1, p - 1, r, y, a::numeric, f FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS x(r, y, a, f, p)`,
    [paymentId, allocations.map((a) => String(a['receivableId'])), allocations.map((a) => String(a['payee'])), allocations.map((a) => String(a['amount'])), allocations.map((a) => (typeof a['financingId'] === 'string' ? a['financingId'] : null))],
  );
}
