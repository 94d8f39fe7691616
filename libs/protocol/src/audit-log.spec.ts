import { describe, expect, it } from 'vitest';
import { ACCESS_LOG_GENESIS_HASH, type AccessLogEntry, accessLogEntryHash, verifyAccessLog } from './audit-log';

function chain(n: number): Array<AccessLogEntry & { entryHash: string }> {
  const out: Array<AccessLogEntry & { entryHash: string }> = [];
  let previousHash = ACCESS_LOG_GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const entry: AccessLogEntry = { seq, at: `2026-12-06T10:00:0${seq}.000Z`, organizationId: 'regulator', actor: 'admin', transport: 'rest', operation: 'GET /audit/v1/alerts', parameters: '{"params":{},"query":{}}', recordCount: seq, outcome: 'ok', previousHash };
    const entryHash = accessLogEntryHash(entry);
    out.push({ ...entry, entryHash });
    previousHash = entryHash;
  }
  return out;
}

describe('the access log hash chain', () => {
  it('is a fixed function of the entry: SHA-256 over the domain tag and its canonical JSON', () => {
    const [first] = chain(1);
    expect(first.entryHash).toMatch(/^[0-9a-f]{64}$/);
    expect(accessLogEntryHash({ ...first })).toBe(first.entryHash);
    expect(accessLogEntryHash({ ...first, recordCount: 2 })).not.toBe(first.entryHash);
  });

  it('verifies a chain and names the first entry changed, removed or moved', () => {
    const entries = chain(5);
    expect(verifyAccessLog(entries)).toEqual({ ok: true, entries: 5, headHash: entries[4].entryHash });
    const changed = entries.map((e) => (e.seq === 3 ? { ...e, actor: 'someone-else' } : e));
    expect(verifyAccessLog(changed)).toMatchObject({ ok: false, seq: 3, reason: expect.stringMatching(/changed/) });
    const rehashed = changed.map((e) => (e.seq === 3 ? { ...e, entryHash: accessLogEntryHash(e) } : e));
    expect(verifyAccessLog(rehashed)).toMatchObject({ ok: false, seq: 4, reason: expect.stringMatching(/previous hash/) });
    expect(verifyAccessLog(entries.filter((e) => e.seq !== 2))).toMatchObject({ ok: false, seq: 3, reason: expect.stringMatching(/removed or moved/) });
    expect(verifyAccessLog([entries[0], entries[2], entries[1]])).toMatchObject({ ok: false, seq: 3 });
    // A page verifies from where the previous one ended.
    expect(verifyAccessLog(entries.slice(2), { previousHash: entries[1].entryHash, firstSeq: 3 })).toMatchObject({ ok: true, entries: 3 });
  });
});
