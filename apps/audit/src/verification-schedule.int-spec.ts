// Issue 7: "a changed row in any member's PostgreSQL is detected and located" — without anyone asking. With
// AUDIT_CHAIN_RUN_INTERVAL_MS the audit verifies every node whole on a schedule; a hand edit of the state
// table shows up as a recorded failed run and a divergent-state alert naming the block.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sha256, toHex, utf8 } from '@alliance/protocol';
import { AuditTestChain, member, REGULATOR, until } from '../test/harness';

describe('audit: scheduled whole-chain runs find a hand edit nobody asked about', () => {
  const chain = new AuditTestChain('audit-schedule', [member('org1', 'manufacturer')], [member(REGULATOR, 'regulator')]);
  const ledgerPool = () => chain.identity!.runtime.pool;

  beforeAll(async () => {
    await chain.startAudit(inject('databaseUrl'), 'audit_schedule', ['org1'], { AUDIT_CHAIN_RUN_INTERVAL_MS: '700', AUDIT_WATCH_INTERVAL_MS: '0' });
    await chain.submit(chain.signed(chain.members[0], 'ledger.anchor', { hash: toHex(sha256(utf8('audit-schedule'))) }));
  }, 180_000);
  afterAll(() => chain.stop());

  it('records passing runs of every node on its own, then a failed one with a divergent-state alert after a state row is changed', async () => {
    const runs = async () => (await chain.auditCall('GET', '/verifications?limit=1000')).body['items'] as Array<{ node: string; outcome: string; verdict: { firstFailure: { blockNumber: number | null; code: string } | null } }>;
    await until('a passing scheduled run of the observer and of org1', async () => {
      const r = await runs();
      return ['observer', 'org1'].every((n) => r.some((x) => x.node === n && x.outcome === 'passed')) ? true : undefined;
    }, 30_000);
    const { rows } = await ledgerPool().query<{ key: string; block_number: string }>(`SELECT key, block_number FROM ledger.state WHERE key LIKE 'anchor/%' ORDER BY block_number DESC LIMIT 1`);
    expect(rows[0]).toBeDefined();
    await ledgerPool().query(`UPDATE ledger.state SET version = version + 1 WHERE key = $1`, [rows[0].key]);
    try {
      const failed = await until('a failed scheduled run', async () => (await runs()).find((x) => x.node === 'org1' && x.outcome === 'failed'), 30_000);
      expect(failed.verdict.firstFailure).toMatchObject({ blockNumber: Number(rows[0].block_number), code: 'SDK.STATE_MISMATCH' });
      const alerts = (await chain.auditCall('GET', '/alerts?kind=divergent-state')).body['items'] as Array<{ blockNumber: number }>;
      expect(alerts.map((a) => a.blockNumber)).toContain(Number(rows[0].block_number));
    } finally {
      await ledgerPool().query(`UPDATE ledger.state SET version = version - 1 WHERE key = $1`, [rows[0].key]);
    }
  });
});
