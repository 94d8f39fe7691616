import { type AlertRaisedV1, type BlockCommittedV1, type EventEnvelope, type FinanceRecordChangedV1, type ForkDetectedV1, Topics } from '@alliance/contracts';
import { type CommittedBlock, type CommittedTransaction, type Consumer, type LedgerBlockSource, startConsumer, type Transport } from '@alliance/shared/data-access-messaging';
import type { Pool } from '@alliance/shared/data-access-postgres';
import { AllianceError } from '@alliance/shared/util-errors';
import { alertsOfBlock, forkOf, freezeOfRecordChange, type MembershipFact, membershipAlertOf, sensorBreachOf } from './alerts-derive';
import type { AlertStore, AuditAlert } from './alerts-store';

/** The topics the alert watcher consumes (libs/contracts/src/topics.ts). */
export const ALERT_TOPICS = [
  Topics.provenanceAlertRaised,
  Topics.ledgerForkDetected,
  Topics.ledgerBlockCommitted,
  Topics.identityOrganizationJoined,
  Topics.identityOrganizationLeft,
  Topics.identityProposalDecided,
  Topics.identityKeyRevoked,
  Topics.financeReceivableChanged,
  Topics.financeWarehouseReceiptChanged,
  Topics.financeLeaseChanged,
] as const;

/** Topics whose facts are also in the blocks: with an observer node to read, they only wake the block reader. */
const CHAIN_TOPICS: ReadonlySet<string> = new Set([
  Topics.ledgerBlockCommitted.name,
  Topics.identityOrganizationJoined.name,
  Topics.identityOrganizationLeft.name,
  Topics.identityProposalDecided.name,
  Topics.identityKeyRevoked.name,
  Topics.financeReceivableChanged.name,
  Topics.financeWarehouseReceiptChanged.name,
  Topics.financeLeaseChanged.name,
]);

export interface AlertWatcherOptions {
  readonly alerts: AlertStore;
  /** The read-only pool (role alliance_audit): the block position in audit.alert_blocks. */
  readonly pool: Pool;
  /** The platform's transport and the pool of its processed_events (the schema owner's), when messaging is on. */
  readonly transport?: Transport;
  readonly consumerPool?: Pool;
  readonly group: string;
  readonly chainId: string;
  /** The regulator's own (observer) ledger node: the blocks alerts are read from. */
  readonly ledger?: LedgerBlockSource;
  /** How often the node is asked for new blocks besides when an event says there are (default 1 s). */
  readonly pollIntervalMs?: number;
  readonly logger?: (level: 'info' | 'warn', message: string, context?: Record<string, unknown>) => void;
}

/** An identity event's payload as the membership fact it states. */
export function membershipFactOfEvent(topic: string, p: Record<string, unknown>): MembershipFact | null {
  const s = (k: string) => String(p[k]);
  if (topic === Topics.identityOrganizationJoined.name) return { change: 'organization.joined', organizationId: s('organizationId'), role: s('role') };
  if (topic === Topics.identityOrganizationLeft.name) return { change: 'organization.left', organizationId: s('organizationId'), reason: p['reason'] as 'exit' | 'expel' | 'configuration' };
  if (topic === Topics.identityProposalDecided.name) return { change: 'proposal.decided', proposalId: s('proposalId'), kind: s('kind'), organizationId: s('organizationId'), status: p['status'] as 'approved' | 'rejected' | 'stale' };
  if (topic === Topics.identityKeyRevoked.name) return { change: 'key.revoked', organizationId: s('organizationId'), agentId: s('agentId'), keyId: s('keyId') };
  return null;
}

/**
 * Raises the alerts of the chain and of the services' events (docs/audit.md, Alerts):
 *
 * - **Blocks** of the regulator's own observer node (`AUDIT_LEDGER_URL`), read in
 *   order over its REST API from the position in `audit.alert_blocks`: refused
 *   double financings, freezes, recalls and membership changes (alerts-derive.ts).
 *   The audit trusts no member for these: `ledger.block.committed.v1`, the identity
 *   events and `finance.<kind>.changed.v1` only wake the reader, and a fact seen
 *   both ways is one alert (the same alertId).
 * - **Events** of what is not in a block: `provenance.alert.raised.v1` (the sensor
 *   rule evaluation is the provenance read model's) and `ledger.fork.detected.v1`.
 *   Without an observer node, the chain's facts come from the events too.
 *
 * Consumed effectively once per group (processed_events in the audit schema);
 * the alerts are written through the read-only role's AlertStore, each once by
 * its alertId, so a redelivery, a block read again or a second instance raise nothing new.
 */
export class AlertWatcher {
  private consumer: Consumer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private again = false;
  private stopped = false;
  private lastError: string | undefined;

  constructor(private readonly options: AlertWatcherOptions) {}

  async start(): Promise<void> {
    const { transport, consumerPool } = this.options;
    if (transport && consumerPool) {
      this.consumer = await startConsumer({
        transport,
        pool: consumerPool,
        schema: 'audit',
        group: this.options.group,
        topics: ALERT_TOPICS,
        producer: 'audit',
        handler: async (event) => this.handle(event as EventEnvelope<Record<string, unknown>>),
      });
    }
    if (this.options.ledger) this.schedule(0);
  }

  /** The alerts one event raises (or, for a fact of the chain with an observer node to read, a wake-up of the reader). */
  async handle(event: EventEnvelope<Record<string, unknown>>): Promise<void> {
    const p = event.payload;
    if (typeof p['chainId'] === 'string' && p['chainId'] !== this.options.chainId) return;
    if (CHAIN_TOPICS.has(event.topic) && this.options.ledger) {
      this.kick();
      return;
    }
    for (const alert of this.alertsOfEvent(event)) await this.options.alerts.raise(alert);
  }

  private alertsOfEvent(event: EventEnvelope<Record<string, unknown>>): AuditAlert[] {
    const p = event.payload;
    switch (event.topic) {
      case Topics.provenanceAlertRaised.name:
        return [sensorBreachOf(p as unknown as AlertRaisedV1)];
      case Topics.ledgerForkDetected.name:
        return [forkOf(p as unknown as ForkDetectedV1)];
      case Topics.ledgerBlockCommitted.name: {
        const b = p as unknown as BlockCommittedV1;
        return alertsOfBlock({ chainId: b.chainId, blockNumber: b.blockNumber, headerHash: b.headerHash, committedAt: b.committedAt, transactions: b.transactions as CommittedTransaction[] });
      }
      case Topics.financeReceivableChanged.name:
      case Topics.financeWarehouseReceiptChanged.name:
      case Topics.financeLeaseChanged.name: {
        const alert = freezeOfRecordChange(p as unknown as FinanceRecordChangedV1, event.occurredAt);
        return alert ? [alert] : [];
      }
      default: {
        const fact = membershipFactOfEvent(event.topic, p);
        if (!fact) throw new AllianceError('AUDIT.UNEXPECTED_EVENT', 'invalid', `the alert watcher does not handle ${event.topic}`);
        return [membershipAlertOf(fact, { blockNumber: Number(p['blockNumber']), transactionId: String(p['transactionId']), occurredAt: event.occurredAt })];
      }
    }
  }

  /** The last block read (-1: none). */
  async lastBlock(): Promise<number> {
    const { rows } = await this.options.pool.query<{ n: string | null }>('SELECT max(block_number)::text AS n FROM audit.alert_blocks');
    return rows[0]?.n === null || rows[0]?.n === undefined ? -1 : Number(rows[0].n);
  }

  /** Reads the observer node's blocks after the position up to its head; resolves to the last block read. A call while a run goes makes it run once more. */
  scan(): Promise<number> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const ledger = this.options.ledger;
    if (!ledger || this.stopped) return this.lastBlock();
    this.running = (async () => {
      let last = await this.lastBlock();
      do {
        this.again = false;
        for (;;) {
          if (this.stopped) return last;
          const block = await ledger.block(last + 1);
          if (!block) break;
          await this.read(block);
          last = block.blockNumber;
        }
      } while (this.again && !this.stopped);
      this.lastError = undefined;
      return last;
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async read(block: CommittedBlock): Promise<void> {
    if (block.chainId !== this.options.chainId) throw new AllianceError('AUDIT.WRONG_CHAIN', 'invalid', `AUDIT_LEDGER_URL serves chain ${block.chainId}, not ${this.options.chainId}`);
    const alerts = alertsOfBlock(block);
    for (const alert of alerts) await this.options.alerts.raise(alert);
    // After its alerts: a crash in between reads the block again, and raises nothing twice.
    await this.options.pool.query('INSERT INTO audit.alert_blocks (block_number, header_hash, alerts) VALUES ($1, $2, $3) ON CONFLICT (block_number) DO NOTHING', [block.blockNumber, block.headerHash, alerts.length]);
  }

  /** Why the last read failed, if it did. */
  get problem(): string | undefined {
    return this.lastError;
  }

  private kick(): void {
    setImmediate(() => void this.scan().catch((error: Error) => this.failed(error)));
  }

  private failed(error: Error): void {
    if (this.lastError !== error.message) this.options.logger?.('warn', `alert watcher cannot read the observer node: ${error.message}`);
    this.lastError = error.message;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.scan()
        .catch((error: Error) => this.failed(error))
        .finally(() => this.schedule(this.options.pollIntervalMs ?? 1_000));
    }, delayMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.consumer?.close();
    await this.running?.catch(() => undefined);
  }
}
