import { randomUUID } from 'node:crypto';
import type { JsonValue } from '@alliance/protocol';
import type { ChainWriter, CommittedBlock } from '@alliance/shared/data-access-messaging';
import type { Pool, PoolClient } from '@alliance/shared/data-access-postgres';
import { AllianceError } from '@alliance/shared/util-errors';

/**
 * What a command answers (docs/finance.md, Commands and receipts): the
 * transaction, its verdict and block, the contract's code and detail when it
 * refused, and the record as the read model holds it once its block is applied.
 */
export interface Receipt {
  readonly transactionId: string;
  readonly status: 'pending' | 'committed' | 'invalid';
  readonly blockNumber: number | null;
  readonly code?: string;
  readonly detail?: string;
  readonly record: JsonValue | null;
}

export interface CommandRequest {
  /** `POST /receivables/{receivableId}/confirm`. */
  readonly operation: string;
  readonly type: string;
  readonly payload: Record<string, unknown>;
  /** The world-state key of the record the receipt carries. */
  readonly recordKey: string;
  /** Hash of what the client sent (operation, path parameters, body): an Idempotency-Key binds to it. */
  readonly requestHash: string;
  readonly idempotencyKey?: string;
  readonly requestedBy: string;
}

interface CommandRow {
  command_id: string;
  idempotency_key: string | null;
  request_hash: string;
  transaction_type: string;
  record_key: string;
  status: 'pending' | 'submitted' | 'committed' | 'invalid';
  envelope: Buffer | null;
  transaction_id: string;
  block_number: string | null;
  code: string | null;
  detail: string | null;
}

export const CommandErrors = {
  idempotencyConflict: (key: string) => new AllianceError('FINANCE.IDEMPOTENCY_CONFLICT', 'conflict', `Idempotency-Key ${key} was used for another request`, { details: { idempotencyKey: key } }),
  invalidIdempotencyKey: () => new AllianceError('FINANCE.INVALID_IDEMPOTENCY_KEY', 'invalid', 'Idempotency-Key must be 1-200 printable ASCII characters'),
  unknownTransaction: (id: string) => new AllianceError('FINANCE.UNKNOWN_TRANSACTION', 'not-found', `no transaction ${id} on this organization's ledger node`),
};

/** A contract's (or the ledger's) refusal as the error every transport maps: 409, 422 for FINANCE.INVALID, 403 for a missing permission. */
export function refusalOf(receipt: Receipt): AllianceError {
  const code = receipt.code ?? 'FINANCE.REFUSED';
  return new AllianceError(code, code === 'IDENTITY.NOT_ALLOWED' ? 'forbidden' : 'conflict', receipt.detail ?? code, {
    details: { transactionId: receipt.transactionId, status: receipt.status, blockNumber: receipt.blockNumber },
  });
}

export interface CommandServiceOptions {
  readonly pool: Pool;
  readonly writer: ChainWriter;
  /** The current record under a key, from the read model. */
  readonly recordOf: (key: string) => Promise<JsonValue | null>;
  /** Brings the read model up to `blockNumber` (it marks its block's commands as it applies it). */
  readonly catchUp: (blockNumber: number) => Promise<unknown>;
  /**
   * What the service checks before it signs, by transaction type (docs/finance.md, Holds from
   * provenance): facts the contract cannot see. Throws an AllianceError to refuse; nothing is signed.
   */
  readonly prechecks?: Readonly<Record<string, (payload: Record<string, unknown>) => Promise<void>>>;
  /** How often open commands nobody waits for are moved on (default 1 s). */
  readonly sweepIntervalMs?: number;
  readonly logger?: (level: 'info' | 'warn', message: string, context?: Record<string, unknown>) => void;
}

const OPEN = `status IN ('pending', 'submitted')`;

/**
 * Signs, stores, submits and follows the transactions of finance commands
 * (docs/finance.md, Commands and receipts). The signed envelope is stored
 * under the client's Idempotency-Key before it is sent; a request waits a
 * bounded time for the verdict and for the read model to apply the block,
 * and a sweep moves on what nobody waits for any more (after a timeout or a
 * crash), submitting the same bytes again, so a command commits once.
 */
export class CommandService {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: CommandServiceOptions) {}

  /** Runs a command: the receipt once there is a verdict, or a pending one after `waitMs`. */
  async execute(request: CommandRequest, waitMs: number): Promise<Receipt> {
    if (request.idempotencyKey !== undefined) {
      const existing = await this.byIdempotencyKey(request.idempotencyKey);
      if (existing) return this.settle(this.checked(existing, request), waitMs);
    }
    await this.options.prechecks?.[request.type]?.(request.payload);
    const signed = this.options.writer.sign(request.type, request.payload);
    const { rows } = await this.options.pool.query<CommandRow>(
      `INSERT INTO finance.commands (command_id, idempotency_key, request_hash, operation, transaction_type, record_key, requested_by, status, envelope, transaction_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9)
       ON CONFLICT (idempotency_key) DO NOTHING RETURNING *`,
      [randomUUID(), request.idempotencyKey ?? null, request.requestHash, request.operation, request.type, request.recordKey, request.requestedBy, Buffer.from(signed.bytes), signed.transactionId],
    );
    // Nothing inserted: a concurrent request with the same Idempotency-Key won.
    const row = rows[0] ?? this.checked(await this.byIdempotencyKey(request.idempotencyKey ?? ''), request);
    return this.settle(row, waitMs);
  }

  /** The receipt of a transaction this service signed (moved on if still open), else the ledger's verdict on it; FINANCE.UNKNOWN_TRANSACTION when neither knows it. */
  async receipt(transactionId: string): Promise<Receipt> {
    const { rows } = await this.options.pool.query<CommandRow>('SELECT * FROM finance.commands WHERE transaction_id = $1 OR $1 = ANY(earlier_transaction_ids)', [transactionId]);
    if (rows[0]) return this.settle(rows[0], 0);
    const status = await this.options.writer.status(transactionId);
    if (status.status === 'unknown') throw CommandErrors.unknownTransaction(transactionId);
    if (status.status === 'invalid') return { transactionId, status: 'invalid', blockNumber: status.blockNumber, code: status.code, ...(status.detail ? { detail: status.detail } : {}), record: null };
    return { transactionId, status: status.status, blockNumber: status.status === 'committed' ? status.blockNumber : null, record: null };
  }

  /**
   * Marks this block's commands (called by the read model in the transaction
   * applying it): a committed command's record is in the read model from the
   * same commit on.
   */
  static async markApplied(client: PoolClient, block: CommittedBlock): Promise<void> {
    if (block.transactions.length === 0) return;
    await client.query(
      `UPDATE finance.commands c SET status = CASE WHEN t.code = 'VALID' THEN 'committed' ELSE 'invalid' END, code = CASE WHEN t.code = 'VALID' THEN NULL ELSE t.code END,
         block_number = $3, finished_at = now(), envelope = NULL
       FROM unnest($1::text[], $2::text[]) AS t(id, code) WHERE c.transaction_id = t.id AND c.${OPEN}`,
      [block.transactions.map((t) => t.transactionId), block.transactions.map((t) => t.code), block.blockNumber],
    );
  }

  private checked(row: CommandRow | undefined, request: CommandRequest): CommandRow {
    if (!row || row.request_hash !== request.requestHash) throw CommandErrors.idempotencyConflict(request.idempotencyKey ?? '');
    return row;
  }

  /** Moves the command on until it has a verdict applied by the read model, or `waitMs` passed. */
  private async settle(first: CommandRow, waitMs: number): Promise<Receipt> {
    const deadline = Date.now() + waitMs;
    let row = first;
    for (let delay = 25; ; delay = Math.min(delay * 2, 250)) {
      if (row.status === 'committed' || (row.status === 'invalid' && row.detail !== null)) return this.receiptOf(row);
      await this.advance(row).catch((error: unknown) => {
        // The ledger node is away: the command stays open and is retried.
        if (!(error instanceof AllianceError) || error.kind !== 'unavailable') throw error;
      });
      row = await this.reload(row.command_id);
      if (row.status === 'committed' || row.status === 'invalid' || Date.now() >= deadline) return this.receiptOf(row);
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  /** One step: a pending command is submitted, a submitted one asked about; a refusal gets the contract's detail. */
  private async advance(row: CommandRow): Promise<void> {
    const { pool, writer } = this.options;
    if (row.status === 'pending' && row.envelope) {
      const outcome = await writer.submit(row.envelope).catch((error: unknown) => {
        if (error instanceof AllianceError && error.code === 'FINANCE.LEDGER_REFUSED') return error;
        throw error;
      });
      if (outcome instanceof AllianceError) await this.refuse(row, String(outcome.details['ledgerCode'] ?? outcome.code), outcome.message, null);
      else if (outcome === 'expired') await this.resign(row, row.envelope);
      else await pool.query(`UPDATE finance.commands SET status = 'submitted' WHERE command_id = $1 AND status = 'pending'`, [row.command_id]);
      return;
    }
    if (row.status === 'submitted' || (row.status === 'invalid' && row.detail === null)) {
      const status = await writer.status(row.transaction_id);
      // Either verdict: what the caller reads next includes the block that gave it.
      if (status.status === 'committed' || status.status === 'invalid') await this.options.catchUp(status.blockNumber);
      if (status.status === 'invalid') await this.refuse(row, status.code, status.detail ?? status.code, status.blockNumber);
      // The node lost it (a restart before it was ordered): submit the same bytes again.
      else if (status.status === 'unknown' && row.status === 'submitted') await pool.query(`UPDATE finance.commands SET status = 'pending' WHERE command_id = $1 AND status = 'submitted'`, [row.command_id]);
    }
  }

  private async refuse(row: CommandRow, code: string, detail: string, blockNumber: number | null): Promise<void> {
    await this.options.pool.query(
      `UPDATE finance.commands SET status = 'invalid', code = $2, detail = $3, block_number = COALESCE($4, block_number), finished_at = COALESCE(finished_at, now()), envelope = NULL
       WHERE command_id = $1 AND (${OPEN} OR (status = 'invalid' AND detail IS NULL))`,
      [row.command_id, code, detail, blockNumber],
    );
  }

  /** A stored envelope that aged out of the ledger's timestamp window was never ordered: the same payload is signed again. */
  private async resign(row: CommandRow, envelope: Buffer): Promise<void> {
    const { transaction } = JSON.parse(envelope.toString('utf8')) as { transaction: { payload: Record<string, unknown> } };
    const signed = this.options.writer.sign(row.transaction_type, transaction.payload);
    await this.options.pool.query(
      `UPDATE finance.commands SET envelope = $2, transaction_id = $3, earlier_transaction_ids = earlier_transaction_ids || transaction_id WHERE command_id = $1 AND status = 'pending'`,
      [row.command_id, Buffer.from(signed.bytes), signed.transactionId],
    );
    this.options.logger?.('info', 'command re-signed after its timestamp left the ledger window', { commandId: row.command_id, transactionId: signed.transactionId });
  }

  private async receiptOf(row: CommandRow): Promise<Receipt> {
    const blockNumber = row.block_number === null ? null : Number(row.block_number);
    if (row.status === 'committed') return { transactionId: row.transaction_id, status: 'committed', blockNumber, record: await this.options.recordOf(row.record_key) };
    if (row.status === 'invalid') return { transactionId: row.transaction_id, status: 'invalid', blockNumber, code: row.code ?? 'FINANCE.REFUSED', ...(row.detail ? { detail: row.detail } : {}), record: null };
    return { transactionId: row.transaction_id, status: 'pending', blockNumber: null, record: null };
  }

  private async reload(commandId: string): Promise<CommandRow> {
    const { rows } = await this.options.pool.query<CommandRow>('SELECT * FROM finance.commands WHERE command_id = $1', [commandId]);
    return rows[0] as CommandRow;
  }

  private async byIdempotencyKey(key: string): Promise<CommandRow | undefined> {
    const { rows } = await this.options.pool.query<CommandRow>('SELECT * FROM finance.commands WHERE idempotency_key = $1', [key]);
    return rows[0];
  }

  start(): void {
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.sweeping = this.sweep()
        .catch((error: unknown) => this.options.logger?.('warn', 'open finance commands cannot be moved on now', { err: (error as Error).message }))
        .then(() => {
          this.sweeping = undefined;
          this.schedule(this.options.sweepIntervalMs ?? 1_000);
        });
    }, delayMs);
    this.timer.unref();
  }

  /** One pass over the open commands (oldest first). */
  private async sweep(): Promise<void> {
    const { rows } = await this.options.pool.query<CommandRow>(`SELECT * FROM finance.commands WHERE ${OPEN} OR (status = 'invalid' AND detail IS NULL) ORDER BY created_at LIMIT 100`);
    for (const row of rows) {
      if (this.stopped) return;
      await this.advance(row);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.sweeping;
  }
}
