// Issue 7, "done means": the read-only test covers every route, every GraphQL field and the database
// grants — no write route, no mutation, and the audit's PostgreSQL role can only SELECT what it reads
// (and INSERT into its own append-only tables). Also: every audit query lands in the hash-chained access
// log, which verifies, and a changed entry is found.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { accessLogHeadText, fromBase64, SignatureDomain, verify, verifyAccessLog } from '@alliance/protocol';
import { accessOf } from '@alliance/shared/feature-platform';
import { auditService } from './main';
import { AUDIT_DB_ROLE } from './audit.module';
import { AuditTestChain, member, REGULATOR } from '../test/harness';

describe('audit service: read-only by construction, every query recorded', () => {
  const chain = new AuditTestChain('audit-read-only', [member('org1', 'manufacturer')], [member(REGULATOR, 'regulator')]);
  const pool = () => chain.service(REGULATOR).service.runtime.pool;

  beforeAll(async () => {
    await chain.startAudit(inject('databaseUrl'), 'audit_read_only', ['org1']);
  }, 180_000);
  afterAll(() => chain.stop());

  it('serves no write route: every REST operation of the service is a GET (the platform’s own included)', () => {
    const entries = accessOf(auditService);
    expect(entries.length).toBeGreaterThan(3);
    const rest = entries.filter((e) => e.kind === 'rest');
    expect(rest.filter((e) => !e.operation.startsWith('GET ')).map((e) => e.operation)).toEqual([]);
    // And the running application agrees: its OpenAPI document has no other method.
    return fetch(`${chain.audit.url}/audit/v1/openapi.json`).then(async (res) => {
      const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
      const methods = Object.values(doc.paths).flatMap((p) => Object.keys(p).filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m)));
      expect(methods.length).toBeGreaterThan(3);
      expect(methods.filter((m) => m !== 'get')).toEqual([]);
    });
  });

  it('has no mutation in its GraphQL schema, and answers a mutation with an error', async () => {
    const schema = await chain.auditGraphql('{ __schema { mutationType { name } queryType { fields { name } } subscriptionType { name } } }');
    expect(schema.errors).toBeUndefined();
    const s = (schema.data as { __schema: { mutationType: unknown; queryType: { fields: Array<{ name: string }> } } }).__schema;
    expect(s.mutationType).toBeNull();
    expect(s.queryType.fields.map((f) => f.name)).toContain('auditAccessLog');
    const graphqlEntries = accessOf(auditService).filter((e) => e.kind === 'graphql');
    expect(graphqlEntries.filter((e) => e.operation.startsWith('Mutation.'))).toEqual([]);
    const attempt = await chain.auditGraphql('mutation { anything }');
    expect(attempt.errors?.length).toBeGreaterThan(0);
  });

  it('guards every route and every GraphQL field with audit.read: a member is refused, an anonymous caller too, and nothing is written', async () => {
    const entries = accessOf(auditService);
    const open = entries.filter((e) => e.rule.kind === 'public').map((e) => e.operation);
    expect(open.sort()).toEqual(['GET /audit/v1/status', 'GET /health', 'GET /health/live', 'GET /health/ready', 'Query.auditStatus']);
    const guarded = entries.filter((e) => e.rule.kind !== 'public');
    for (const e of guarded) expect(e.rule, e.operation).toEqual({ kind: 'permission', permission: 'audit.read', scope: { from: 'service' } });
    // Every field the schema serves is one of them (or federation's own _service).
    const schema = await chain.auditGraphql('{ __schema { queryType { fields { name } } subscriptionType { fields { name } } } }');
    const s = (schema.data as { __schema: { queryType: { fields: Array<{ name: string }> }; subscriptionType: { fields: Array<{ name: string }> } | null } }).__schema;
    const served = [...s.queryType.fields.map((f) => `Query.${f.name}`), ...(s.subscriptionType?.fields ?? []).map((f) => `Subscription.${f.name}`)].filter((f) => f !== 'Query._service');
    expect(served.sort()).toEqual(entries.filter((e) => e.kind === 'graphql').map((e) => e.operation).sort());
    // Call every guarded REST route as a member and anonymously.
    const logged = async () => Number((await pool().query<{ n: string }>('SELECT count(*) AS n FROM audit.access_log')).rows[0].n);
    const before = await logged();
    const member = chain.members[0];
    for (const e of guarded.filter((x) => x.kind === 'rest')) {
      const path = e.path.replace(/^\/audit\/v1/, '').replace(/:[A-Za-z]+/g, 'a'.repeat(64));
      const asMember = await chain.auditCall('GET', path, undefined, member);
      expect([asMember.status, asMember.body['code']], e.operation).toEqual([403, 'AUTH.FORBIDDEN']);
      const anonymous = await fetch(`${chain.audit.url}/audit/v1${path}`);
      expect(anonymous.status, e.operation).toBe(401);
    }
    for (const field of served) {
      const name = field.split('.')[1];
      if (field.startsWith('Subscription.') || open.includes(field)) continue;
      const r = await chain.auditGraphql(`{ ${name} { __typename } }`, {}, member);
      // Either the guard refuses it, or the query does not validate (required arguments): never an answer.
      expect(r.data?.[name] ?? null, field).toBeNull();
      expect(r.errors?.[0]?.extensions?.['code'], field).toMatch(/^(AUTH\.FORBIDDEN|GRAPHQL_VALIDATION_FAILED)$/);
    }
    // Refused requests are not audit queries: nothing was answered, nothing logged, nothing else written.
    expect(await logged()).toBe(before);
  });

  it('queries as a role with SELECT and append-only INSERT on its own tables, and no other privilege anywhere', async () => {
    const { rows: grants } = await pool().query<{ table_schema: string; table_name: string; privilege_type: string }>(
      `SELECT table_schema, table_name, privilege_type FROM information_schema.role_table_grants WHERE grantee = $1 ORDER BY 1, 2, 3`,
      [AUDIT_DB_ROLE],
    );
    expect(grants.length).toBeGreaterThan(0);
    expect(grants.filter((g) => !['SELECT', 'INSERT'].includes(g.privilege_type))).toEqual([]);
    expect(grants.filter((g) => g.table_schema !== 'audit')).toEqual([]);
    // Every table it may insert into is append-only: UPDATE and DELETE refused by trigger, for the owner too.
    const inserted = [...new Set(grants.filter((g) => g.privilege_type === 'INSERT').map((g) => g.table_name))];
    const { rows: triggers } = await pool().query<{ table_name: string }>(
      `SELECT DISTINCT c.relname AS table_name FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'audit' AND t.tgfoid = 'audit.append_only'::regproc`,
    );
    expect(inserted.filter((t) => !triggers.some((x) => x.table_name === t))).toEqual([]);
    // Not a superuser, cannot create, cannot log in; no schema privilege but USAGE on audit.
    const { rows: role } = await pool().query(`SELECT rolsuper, rolcreatedb, rolcreaterole, rolcanlogin, rolbypassrls FROM pg_roles WHERE rolname = $1`, [AUDIT_DB_ROLE]);
    expect(role[0]).toEqual({ rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolcanlogin: false, rolbypassrls: false });
    const { rows: schemas } = await pool().query<{ nspname: string; usage: boolean; create: boolean }>(
      `SELECT nspname, has_schema_privilege($1, oid, 'USAGE') AS usage, has_schema_privilege($1, oid, 'CREATE') AS create FROM pg_namespace WHERE nspname NOT LIKE 'pg_%' AND nspname <> 'information_schema' ORDER BY 1`,
      [AUDIT_DB_ROLE],
    );
    expect(schemas.filter((s) => s.create)).toEqual([]);
    expect(schemas.filter((s) => s.usage && !['audit', 'public'].includes(s.nspname)).map((s) => s.nspname)).toEqual([]);
    // And as that role, a write is refused by PostgreSQL itself.
    const client = await pool().connect();
    try {
      await client.query(`SET ROLE ${AUDIT_DB_ROLE}`);
      for (const sql of ['UPDATE audit.access_log SET outcome = outcome', 'DELETE FROM audit.access_log', 'TRUNCATE audit.access_log', 'UPDATE finance.receivables SET status = status', 'SELECT count(*) FROM finance.receivables', 'CREATE TABLE audit.x (a int)']) {
        await expect(client.query(sql), sql).rejects.toThrow(/permission denied|append-only/);
      }
    } finally {
      await client.query('RESET ROLE');
      client.release();
    }
  });

  it('records every query — who, what, when, how many — hash-chained; the chain verifies and its head is signed by the regulator', async () => {
    const first = await chain.auditCall('GET', '/access-log?limit=5');
    expect(first.status, first.text).toBe(200);
    const gql = await chain.auditGraphql('{ auditAccessLog(limit: 2) { items { seq operation } next } }');
    expect(gql.errors).toBeUndefined();
    const bad = await chain.auditCall('GET', '/access-log?limit=0');
    expect(bad.status).toBe(400);
    expect(bad.body['code']).toBe('AUDIT.INVALID_QUERY');
    const page = await chain.auditCall('GET', '/access-log?limit=1000');
    const items = page.body['items'] as Array<{ seq: number; operation: string; organizationId: string; actor: string; recordCount: number; outcome: string; parameters: string; transport: string; entryHash: string; previousHash: string; at: string }>;
    const ops = items.map((e) => [e.transport, e.operation, e.outcome]);
    expect(ops).toEqual(
      expect.arrayContaining([
        ['rest', 'GET /audit/v1/access-log', 'ok'],
        ['graphql', 'Query.auditAccessLog', 'ok'],
        ['rest', 'GET /audit/v1/access-log', 'AUDIT.INVALID_QUERY'],
      ]),
    );
    const mine = items.find((e) => e.operation === 'GET /audit/v1/access-log' && e.outcome === 'ok' && e.parameters.includes('"limit":"5"'));
    expect(mine).toMatchObject({ organizationId: REGULATOR, actor: 'admin', parameters: '{"params":{},"query":{"limit":"5"}}' });
    expect(items.find((e) => e.operation === 'Query.auditAccessLog')?.recordCount).toBeGreaterThan(0);
    expect(verifyAccessLog(items as never)).toMatchObject({ ok: true });
    const verification = await chain.auditCall('GET', '/access-log/verification');
    expect(verification.body).toMatchObject({ ok: true, firstBad: null });
    const head = await chain.auditCall('GET', '/access-log/head');
    const h = head.body as { chainId: string; seq: number; entryHash: string; signature: { organizationId: string; algorithm: 'ed25519'; signature: string } };
    expect(h.signature.organizationId).toBe(REGULATOR);
    expect(verify('ed25519', chain.regulator.admin.publicKey, SignatureDomain.auditLogHead, accessLogHeadText(h.chainId, h.seq, h.entryHash), fromBase64(h.signature.signature))).toBe(true);
    expect(verify('ed25519', chain.regulator.admin.publicKey, SignatureDomain.auditLogHead, accessLogHeadText(h.chainId, h.seq + 1, h.entryHash), fromBase64(h.signature.signature))).toBe(false);
  });

  it('finds an entry changed in the database (by its owner, past the trigger) and names it', async () => {
    const client = await pool().connect();
    try {
      await client.query('BEGIN');
      await client.query('ALTER TABLE audit.access_log DISABLE TRIGGER access_log_append_only');
      await client.query(`UPDATE audit.access_log SET record_count = record_count + 1 WHERE seq = 2`);
      await client.query('ALTER TABLE audit.access_log ENABLE TRIGGER access_log_append_only');
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const verification = await chain.auditCall('GET', '/access-log/verification');
    expect(verification.body).toMatchObject({ ok: false, firstBad: { seq: 2, reason: expect.stringMatching(/changed/) } });
  });
});
