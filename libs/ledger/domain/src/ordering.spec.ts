import { describe, expect, it } from 'vitest';
import { eventually } from '../test/ordering-support';
import { InMemoryOrderingLog } from './in-memory-ordering-log';
import { assertRecordsToAppend, isLogTimestamp, type OrderedRecord, orderingTopicOf, type RecordToAppend, toLogTimestamp } from './ordering';

describe('ordering names and timestamps', () => {
  it('names the chain topic ledger.<chainId>.ordering.v1 and refuses ids that would break the name', () => {
    expect(orderingTopicOf('supply-chain_1')).toBe('ledger.supply-chain_1.ordering.v1');
    for (const bad of ['', 'a.b', '-x', 'with space', 'é', 'x'.repeat(101)]) expect(() => orderingTopicOf(bad)).toThrow(expect.objectContaining({ code: 'LEDGER.INVALID_CHAIN_ID' }));
  });

  it('accepts RFC 3339 UTC timestamps with exactly milliseconds and Z, and nothing else', () => {
    expect(isLogTimestamp('2026-11-26T08:00:00.123Z')).toBe(true);
    for (const bad of ['2026-11-26T08:00:00Z', '2026-11-26T08:00:00.1234Z', '2026-11-26T08:00:00.123+00:00', '2026-02-30T00:00:00.000Z', '2026-11-26 08:00:00.123Z']) {
      expect(isLogTimestamp(bad)).toBe(false);
    }
    expect(toLogTimestamp(Date.UTC(2026, 10, 26, 8, 0, 0, 5))).toBe('2026-11-26T08:00:00.005Z');
    expect(() => toLogTimestamp(1.5)).toThrow(RangeError);
    expect(() => toLogTimestamp(253402300800000)).toThrow(RangeError); // year 10000
  });

  it('refuses records of unknown kind or without bytes before they reach any log', () => {
    expect(() => assertRecordsToAppend([{ kind: 'block' as RecordToAppend['kind'], bytes: new Uint8Array() }])).toThrow(expect.objectContaining({ code: 'LEDGER.ORDERING_INVALID_RECORD' }));
    expect(() => assertRecordsToAppend([{ kind: 'transaction', bytes: 'abc' as unknown as Uint8Array }])).toThrow(/no bytes/);
  });
});

describe('InMemoryOrderingLog', () => {
  it('numbers records from 0 without gaps, stamps them with its own non-decreasing clock, and copies the bytes', async () => {
    let now = 5_000;
    const log = new InMemoryOrderingLog({ now: () => now });
    const bytes = new Uint8Array([1, 2]);
    expect(await log.append([{ kind: 'transaction', bytes }, { kind: 'time-to-cut', bytes }])).toEqual([0, 1]);
    now = 4_000; // the clock stepped back: the log's timestamps do not
    expect(await log.append([{ kind: 'header-signature', bytes }])).toEqual([2]);
    bytes[0] = 9;
    expect(log.records().map((r) => [r.offset, r.timestamp, r.bytes[0]])).toEqual([
      [0, '1970-01-01T00:00:05.000Z', 1],
      [1, '1970-01-01T00:00:05.000Z', 1],
      [2, '1970-01-01T00:00:05.000Z', 1],
    ]);
  });

  it('delivers from any offset in batches, redelivers a refused batch, and refuses offsets beyond its end', async () => {
    const log = new InMemoryOrderingLog({ batchSize: 2, redeliveryDelayMs: 1 });
    await log.append(Array.from({ length: 5 }, () => ({ kind: 'transaction' as const, bytes: new Uint8Array([7]) })));
    const batches: number[][] = [];
    let refuse = true;
    const reader = await log.read({
      fromOffset: 1,
      handle: async (batch: readonly OrderedRecord[]) => {
        batches.push(batch.map((r) => r.offset));
        if (refuse) {
          refuse = false;
          throw new Error('later');
        }
      },
    });
    await eventually('offset 4', () => batches.flat().includes(4));
    await log.append([{ kind: 'transaction', bytes: new Uint8Array([8]) }]);
    await eventually('offset 5', () => batches.flat().includes(5));
    await reader.close();
    expect(batches).toEqual([[1, 2], [1, 2], [3, 4], [5]]);
    await expect(log.read({ fromOffset: 7, handle: async () => undefined })).rejects.toMatchObject({ code: 'LEDGER.ORDERING_OFFSET_OUT_OF_RANGE' });
    await log.close();
    await expect(log.append([])).rejects.toMatchObject({ code: 'LEDGER.ORDERING_LOG_CLOSED' });
  });
});
