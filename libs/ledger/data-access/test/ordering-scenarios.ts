// Scenarios every OrderingLog implementation must pass (Kafka, PostgreSQL, in memory):
// several organizations' nodes, each with its own reader and batch timer, fed by
// concurrent appenders, must commit identical blocks, also across a restart.
import { randomBytes } from 'node:crypto';
import {
  BlockCutter,
  type BlockCutterConfig,
  type BlockCutterState,
  type CutBlock,
  cutterStateAfter,
  INITIAL_CUTTER_STATE,
  type OrderedRecord,
  OrderingDriver,
  type OrderingLog,
  type RecordToAppend,
} from '@alliance/ledger/domain';
import { expect } from 'vitest';

export const CONFIG_MARKER = 0xc0;
export const cutterConfig: BlockCutterConfig = {
  maxTransactions: 10,
  maxBytes: 2_500,
  isConfigTransaction: (bytes) => bytes[0] === CONFIG_MARKER,
};

/** Opens the chain's log as organization `org` (Kafka: its own consumer group). */
export type OpenLog = (org: string) => Promise<OrderingLog>;

export async function waitFor(description: string, condition: () => boolean | Promise<boolean>, timeoutMs = 30_000, intervalMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

/** Byte-exact rendering: equal strings ⇔ identical blocks (numbers, offsets, timestamps, reasons, bytes). */
export function fingerprint(blocks: readonly CutBlock[]): string {
  return JSON.stringify(
    blocks.map((b) => [b.blockNumber, b.firstOffset, b.lastOffset, b.cutOffset, b.timestamp, b.reason, b.records.map((r) => [r.offset, r.timestamp, r.kind, hex(r.bytes)])]),
  );
}

/** A unique transaction: appender id, sequence number and random padding up to `size` bytes. */
export function transaction(appender: number, seq: number, size: number, config = false): RecordToAppend {
  const head = Buffer.from(`${config ? '' : 't'}${appender}:${seq}:`, 'utf8');
  const bytes = Buffer.concat([head, randomBytes(Math.max(0, size - head.length))]);
  if (config) bytes[0] = CONFIG_MARKER;
  return { kind: 'transaction', bytes: new Uint8Array(bytes) };
}

/** Reads `count` records from `fromOffset` with a fresh reader and checks they come once each, in order. */
export async function readRecords(log: OrderingLog, fromOffset: number, count: number, timeoutMs = 30_000): Promise<OrderedRecord[]> {
  const records: OrderedRecord[] = [];
  const reader = await log.read({
    fromOffset,
    handle: async (batch) => {
      records.push(...batch);
    },
  });
  try {
    await waitFor(`${count} records from offset ${fromOffset} (have ${records.length})`, () => records.length >= count, timeoutMs);
  } finally {
    await reader.close();
  }
  expectInOrder(records, fromOffset);
  return records.slice(0, count);
}

/** Offsets strictly increasing from `fromOffset`, no gaps, no repeats. */
export function expectInOrder(records: readonly OrderedRecord[], fromOffset: number): void {
  expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => fromOffset + i));
}

/** One organization's ledger node, reduced to ordering: its "database" is `blocks` + `state`. */
export class SimulatedNode {
  readonly blocks: CutBlock[] = [];
  state: BlockCutterState = INITIAL_CUTTER_STATE;
  restarts = 0;
  private driver: OrderingDriver | undefined;
  private log: OrderingLog | undefined;

  constructor(
    readonly org: string,
    private readonly open: OpenLog,
    private readonly batchTimeoutMs: number,
  ) {}

  get transactions(): number {
    return this.blocks.reduce((sum, b) => sum + b.records.length, 0);
  }

  async start(): Promise<void> {
    this.log = await this.open(this.org);
    this.driver = new OrderingDriver({
      log: this.log,
      cutter: cutterConfig,
      state: this.state,
      batchTimeoutMs: this.batchTimeoutMs,
      maxUncommittedBlocks: 4,
      // Block and consumed offset in one step, like the ledger's PostgreSQL transaction.
      commit: async (block) => {
        this.blocks.push(block);
        this.state = cutterStateAfter(block);
      },
    });
    await this.driver.start();
  }

  /** Stops the node the hard way for a driver: queued, uncommitted blocks are lost and must be cut again. */
  async kill(): Promise<void> {
    await this.driver?.stop();
    await this.log?.close();
    this.driver = undefined;
    this.log = undefined;
  }

  /** Kills the node, waits a moment, and starts it again from its stored state. */
  async restart(pauseMs = 200): Promise<BlockCutterState> {
    await this.kill();
    this.restarts += 1;
    const resumedFrom = this.state;
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    await this.start();
    return resumedFrom;
  }
}

export interface ConsortiumResult {
  readonly nodes: readonly SimulatedNode[];
  readonly transactions: number;
  readonly elapsedMs: number;
  /** Where organization 2's node resumed after its restart. */
  readonly resumedFrom: BlockCutterState;
}

/**
 * Three organizations' nodes and three concurrent appenders on one chain; one
 * node is killed and restarted from its stored state half way. Returns once
 * every node has committed every appended transaction (the last batch is cut
 * by the nodes' own time-to-cut records), or throws after `timeoutMs`.
 */
export async function runConsortium(open: OpenLog, options: { rounds?: number; batchTimeoutMs?: number; timeoutMs?: number; appendLog?: OrderingLog } = {}): Promise<ConsortiumResult> {
  const started = Date.now();
  const rounds = options.rounds ?? 40;
  const batchTimeoutMs = options.batchTimeoutMs ?? 150;
  const nodes = ['org1', 'org2', 'org3'].map((org) => new SimulatedNode(org, open, batchTimeoutMs));
  await Promise.all(nodes.map((node) => node.start()));
  const appendLogs = await Promise.all([0, 1, 2].map((i) => open(`appender${i}`)));
  let appended = 0;
  let resumedFrom: BlockCutterState = INITIAL_CUTTER_STATE;
  try {
    const appender = async (id: number): Promise<void> => {
      for (let seq = 0; seq < rounds; seq += 1) {
        const count = 1 + ((seq * 7 + id) % 6);
        const records = Array.from({ length: count }, (_, i) => transaction(id, seq * 10 + i, 80 + ((seq * 31 + i * 17 + id) % 700)));
        // Now and then a configuration transaction, which must get a block of its own.
        if ((seq + id) % 13 === 0) records.push(transaction(id, seq * 10 + 9, 120, true));
        await appendLogs[id].append(records);
        appended += records.length;
        // Mostly brisk, with quiet spells longer than the batch timeout so timers cut blocks too.
        const pauseMs = seq % 10 === 9 ? batchTimeoutMs + 100 : (seq * 13 + id * 29) % 45;
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    };
    const appending = Promise.all([0, 1, 2].map((id) => appender(id)));
    // Half way through, kill organization 2's node and bring it back from what it committed.
    await waitFor('some blocks before the restart', () => nodes[1].blocks.length >= 3, options.timeoutMs ?? 60_000);
    resumedFrom = await nodes[1].restart();
    await appending;
    await waitFor(
      `every node to commit all ${appended} transactions (have ${nodes.map((n) => n.transactions).join('/')})`,
      () => nodes.every((node) => node.transactions === appended),
      options.timeoutMs ?? 60_000,
    );
  } finally {
    await Promise.allSettled([...nodes.map((node) => node.kill()), ...appendLogs.map((log) => log.close())]);
  }
  return { nodes, transactions: appended, elapsedMs: Date.now() - started, resumedFrom };
}

/** Cuts the log from offset 0 with a plain cutter until it has produced `blockCount` blocks. */
export async function referenceBlocks(log: OrderingLog, blockCount: number, timeoutMs = 30_000): Promise<CutBlock[]> {
  const cutter = new BlockCutter(cutterConfig, INITIAL_CUTTER_STATE);
  const blocks: CutBlock[] = [];
  const offsets: number[] = [];
  const reader = await log.read({
    fromOffset: 0,
    handle: async (batch) => {
      for (const record of batch) {
        offsets.push(record.offset);
        blocks.push(...cutter.feed(record));
      }
    },
  });
  try {
    await waitFor(`${blockCount} reference blocks (have ${blocks.length})`, () => blocks.length >= blockCount, timeoutMs);
  } finally {
    await reader.close();
  }
  // Asserted here, not in the handler: a throwing handler only gets its batch again.
  expect(offsets).toEqual(offsets.map((_, i) => i));
  return blocks.slice(0, blockCount);
}
