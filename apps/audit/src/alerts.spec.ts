import { describe, expect, it } from 'vitest';
import { AllianceError } from '@alliance/shared/util-errors';
import { alertQueryOf, alertStream, kindsOf } from './alerts';
import type { AlertStore, StoredAlert } from './alerts-store';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof AllianceError ? error.code : 'other';
  }
  return null;
};

describe('alert queries', () => {
  it('validates every filter: AUDIT.INVALID_QUERY otherwise', () => {
    expect(alertQueryOf({ kind: 'recall,asset-frozen', severity: 'critical', subject: 'x', organizationId: 'org1', from: '2026-12-06T10:00:00+01:00', to: '2026-12-07T00:00:00Z', after: '5', limit: '20' })).toEqual({
      filter: { kinds: ['recall', 'asset-frozen'], severity: 'critical', subject: 'x', organizationId: 'org1', from: '2026-12-06T09:00:00.000Z', to: '2026-12-07T00:00:00.000Z', after: 5 },
      limit: 20,
    });
    expect(alertQueryOf({})).toEqual({ filter: {}, limit: 100 });
    for (const bad of [{ kind: 'fraud' }, { kind: 'recall,' }, { severity: 'high' }, { from: '2026-12-06' }, { to: 'yesterday' }, { from: '2026-12-07T00:00:00Z', to: '2026-12-06T00:00:00Z' }, { after: '-1' }, { limit: '0' }, { limit: '1001' }, { organizationId: 'a b' }, { subject: '' }]) {
      expect(codeOf(() => alertQueryOf(bad)), JSON.stringify(bad)).toBe('AUDIT.INVALID_QUERY');
    }
    expect(kindsOf(['fork', 'fork'])).toEqual(['fork']);
    expect(kindsOf(null)).toBeUndefined();
  });

  it('streams the alerts after `after`, then each new one once woken, in order, none twice', async () => {
    const table: StoredAlert[] = [];
    const wakers = new Set<() => void>();
    const add = (seq: number, kind: StoredAlert['kind']) => {
      table.push({ seq, kind, alertId: String(seq), severity: 'info', subject: 's', organizationId: null, blockNumber: null, transactionId: null, summary: '', detail: {}, occurredAt: '', raisedAt: '' });
      for (const w of wakers) w();
    };
    const store = {
      onChange: (w: () => void) => (wakers.add(w), () => wakers.delete(w)),
      lastSeq: async () => table.length,
      list: async (f: { after?: number; kinds?: string[] }, limit: number) => {
        const items = table.filter((a) => a.seq > (f.after ?? 0) && (!f.kinds || f.kinds.includes(a.kind))).slice(0, limit);
        return { items, next: null };
      },
    } as unknown as AlertStore;
    add(1, 'recall');
    add(2, 'fork');
    add(3, 'recall');
    const stream = alertStream(store, { kinds: ['recall'], after: 1, lookAgainMs: 60_000 });
    expect((await stream.next()).value?.seq).toBe(3);
    const next = stream.next();
    add(4, 'fork');
    add(5, 'recall');
    expect((await next).value?.seq).toBe(5);
    expect(wakers.size).toBe(1);
    const later = stream.next();
    add(6, 'recall');
    expect((await later).value?.seq).toBe(6);
    await stream.return(undefined);
    expect(wakers.size).toBe(0);
  });
});
