import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { privateKafka, type PrivateKafka } from '@alliance/shared/testing';
import { type Envelope, transactionId } from '@alliance/protocol';
import { allBlocks, type BlockItem, certifiedHead, mapLimit, nodeScript as runScript, pick, seeded, sleep } from './chaos';
import { anchorEnvelopes } from './ledger-client';
import { getJson, isAlive, root, runNode, tempDir, waitFor } from './support';

// Crash recovery under load, on the real stack (its own Kafka broker, own
// databases, own port): clients keep submitting signed `ledger.anchor`
// transactions to the member nodes while every ledger node, the observer too,
// is killed with SIGKILL at seeded random moments and started again through
// `npm run stack -- start`. Afterwards every transaction a node accepted must be
// committed VALID exactly once on every node, the nodes must agree on every
// block, and `alliance verify chain` must pass against each of them.
// LEDGER_CRASH_SEED=<n> replays a run's choices (kill moments, targets, pauses,
// load mix); LEDGER_CRASH_LOGS=<dir> keeps the processes' logs there.

interface StackProcess {
  id: string;
  pid: number;
  url: string;
}

const port = 3400;
const dataDir = tempDir('ledger-crash');
const prefix = `crash_${process.pid}`;
const seed = Number(process.env.LEDGER_CRASH_SEED ?? Date.now() % 2_147_483_647);
const LOAD_MS = 60_000;
const KILLS = 7;
const CLIENTS = 4;
const MAX_MEMBERS_DOWN = 2; // one member always takes submissions; the observer may be down as well
const NODES = ['ledger-org1', 'ledger-org2', 'ledger-org3', 'ledger-regulator'];
const MEMBERS = NODES.slice(0, 3);
const DUPLICATE = 'LEDGER.DUPLICATE_TRANSACTION';
const stackJs = join(root, 'tools/stack.js');

let kafka: PrivateKafka;
let env: NodeJS.ProcessEnv;
let nodes: Record<string, StackProcess>;
let genesisId: string;

const nodeScript = (args: string[], timeoutMs: number) => runScript(args, env, timeoutMs);
const stack = (args: string[], timeoutMs = 150_000) => nodeScript([stackJs, ...args], timeoutMs);

function readStackState(): Record<string, StackProcess> {
  const state = JSON.parse(readFileSync(join(dataDir, 'stack/state.json'), 'utf8')) as { processes: StackProcess[] };
  return Object.fromEntries(state.processes.map((p) => [p.id, p]));
}

// ------------------------------------------------------------------ load

type Outcome = { kind: 'accepted'; ids: string[] } | { kind: 'duplicate' } | { kind: 'unknown'; why: string } | { kind: 'rejected'; why: string };

const load = {
  submitted: 0,
  requests: 0,
  batches: 0,
  unknown: 0,
  acceptedFirstTime: 0,
  acceptedOnResubmit: 0,
  duplicateOnResubmit: 0,
  accepted: new Set<string>(),
  rejected: [] as string[],
  unresolved: [] as string[],
};
/** Set when the clients stop starting new submissions (after LOAD_MS and the last restart). */
let loadStoppedAt: number | undefined;

async function post(node: StackProcess, envelopes: readonly Envelope[]): Promise<Outcome> {
  load.requests++;
  const single = envelopes.length === 1;
  try {
    const res = await fetch(`${node.url}/ledger/v1/transactions${single ? '' : '/batch'}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(single ? envelopes[0] : { transactions: envelopes }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (res.status === 202) {
      const body = JSON.parse(text) as { transactionId?: string; transactionIds?: string[] };
      return { kind: 'accepted', ids: single ? [body.transactionId ?? ''] : (body.transactionIds ?? []) };
    }
    if (res.status === 409 && text.includes(DUPLICATE)) return { kind: 'duplicate' };
    if (res.status >= 500) return { kind: 'unknown', why: `HTTP ${res.status} ${text.slice(0, 200)}` };
    return { kind: 'rejected', why: `${node.id} HTTP ${res.status} ${text.slice(0, 300)}` };
  } catch (error) {
    return { kind: 'unknown', why: `${node.id}: ${(error as Error).cause ? String((error as { cause: unknown }).cause) : (error as Error).message}` };
  }
}

/**
 * Delivers envelopes the way a careful client does: a connection error, a
 * timeout or a 5xx leaves the outcome unknown, so the same envelopes go again
 * (to any member); a 409 duplicate then means an earlier attempt was accepted.
 * A batch answered 409 is split, so each envelope's fate is known.
 */
async function deliver(rng: () => number, envelopes: readonly Envelope[], resubmission = false): Promise<void> {
  const ids = envelopes.map((e) => transactionId(e.transaction));
  for (let attempt = 0; ; attempt++) {
    const outcome = await post(nodes[pick(rng, MEMBERS)], envelopes);
    const again = resubmission || attempt > 0;
    if (outcome.kind === 'accepted') {
      expect(outcome.ids).toEqual(ids);
      for (const id of ids) load.accepted.add(id);
      if (again) load.acceptedOnResubmit += ids.length;
      else load.acceptedFirstTime += ids.length;
      return;
    }
    if (outcome.kind === 'duplicate') {
      if (!again) throw new Error(`a fresh envelope was refused as a duplicate: ${ids.join(', ')}`);
      if (envelopes.length === 1) {
        load.accepted.add(ids[0]);
        load.duplicateOnResubmit += 1;
        return;
      }
      for (const envelope of envelopes) await deliver(rng, [envelope], true);
      return;
    }
    if (outcome.kind === 'rejected') {
      load.rejected.push(outcome.why);
      return;
    }
    load.unknown++;
    if (loadStoppedAt !== undefined && Date.now() > loadStoppedAt + 60_000) {
      load.unresolved.push(...ids);
      return;
    }
    await sleep(200 + rng() * 800);
  }
}

async function client(index: number): Promise<void> {
  const rng = seeded(seed + 1000 * (index + 1));
  const organization = ['org1', 'org2', 'org3'][index % 3];
  while (loadStoppedAt === undefined) {
    const batch = rng() < 0.25 ? 2 + Math.floor(rng() * 11) : 1;
    const envelopes = anchorEnvelopes(dataDir, organization, batch);
    load.submitted += envelopes.length;
    if (batch > 1) load.batches++;
    await deliver(rng, envelopes);
    await sleep(250 + rng() * 400);
  }
}

// ------------------------------------------------------------------ chaos

interface Kill {
  node: string;
  atMs: number;
  pid: number;
  pauseMs: number;
  readyAfterMs: number;
}
const kills: Kill[] = [];

async function killAndRestart(rng: () => number, node: string, startedAt: number): Promise<void> {
  const before = readStackState()[node];
  const atMs = Date.now() - startedAt;
  const killed = await stack(['kill', node, '--signal', 'KILL'], 30_000);
  if (killed.code !== 0) throw new Error(`stack kill ${node} failed: ${killed.output}`);
  expect(isAlive(before.pid), `${node} pid ${before.pid} after SIGKILL`).toBe(false);
  const pauseMs = Math.round(500 + rng() * 3500);
  await sleep(pauseMs);
  const restartAt = Date.now();
  const started = await stack(['start', node]);
  if (started.code !== 0) {
    const log = readFileSync(join(dataDir, 'stack/logs', `${node}.log`), 'utf8').trimEnd().split('\n').slice(-15).join('\n');
    throw new Error(`stack start ${node} failed: ${started.output}\nlast lines of its log:\n${log}`);
  }
  const after = readStackState()[node];
  kills.push({ node, atMs, pid: before.pid, pauseMs, readyAfterMs: Date.now() - restartAt });
  process.stdout.write(`ledger-crash: t=${(atMs / 1000).toFixed(1)}s kill -9 ${node} (pid ${before.pid}); restarted after ${pauseMs} ms as pid ${after.pid}, ready ${Date.now() - restartAt} ms later\n`);
}

/** KILLS SIGKILLs spread over the load window; every node at least once; never more than MAX_MEMBERS_DOWN members down at a time. */
async function chaos(startedAt: number): Promise<void> {
  const rng = seeded(seed);
  const order = [...NODES];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  while (order.length < KILLS) order.push(pick(rng, NODES));
  const down = new Set<string>();
  const restarts: Promise<void>[] = [];
  const window = LOAD_MS - 20_000; // kills between 5 s and LOAD_MS - 15 s, so the load outlasts them
  const allowed = (n: string) => !down.has(n) && (n === 'ledger-regulator' || MEMBERS.filter((m) => down.has(m)).length < MAX_MEMBERS_DOWN);
  const killedOnce = new Set<string>();
  // Nodes never killed come first (waiting for one to be allowed); then the seeded order, or any allowed node.
  const candidates = () => {
    const fresh = order.filter((n) => !killedOnce.has(n));
    return (fresh.length > 0 ? fresh : NODES).filter(allowed);
  };
  for (let i = 0; i < KILLS; i++) {
    const at = startedAt + 5_000 + (i + rng() * 0.8) * (window / KILLS);
    while (Date.now() < at || candidates().length === 0) await sleep(100);
    const choice = candidates();
    const target = choice.includes(order[i]) ? order[i] : killedOnce.size < NODES.length ? choice[0] : pick(rng, choice);
    killedOnce.add(target);
    down.add(target);
    restarts.push(killAndRestart(rng, target, startedAt).finally(() => down.delete(target)));
  }
  await Promise.all(restarts);
}

// ------------------------------------------------------------------ lifecycle

beforeAll(async () => {
  process.stdout.write(`ledger-crash: seed ${seed} (LEDGER_CRASH_SEED=${seed} replays this run's choices)\n`);
  kafka = await privateKafka('alliance-ledger-crash');
  env = { ...process.env, ...kafka.env, PORT: String(port), ALLIANCE_DATA_DIR: dataDir, STACK_DB_PREFIX: prefix, DATABASE_URL: inject('databaseUrl'), LOG_LEVEL: 'info' };
  delete env.KAFKA_BROKERS; // the stack starts this private broker itself through deploy/kafka/kafka.sh
  const up = runNode([stackJs, 'up'], env, 240_000);
  if (up.status !== 0) throw new Error(`stack up failed (${up.status}):\n${up.stdout}\n${up.stderr}`);
  nodes = readStackState();
  const genesis = JSON.parse(readFileSync(join(dataDir, 'genesis.json'), 'utf8')) as Envelope;
  genesisId = transactionId(genesis.transaction);
});

afterAll(async () => {
  const last = readStackStateOrEmpty(); // `down` removes state.json; restarted processes have new pids
  const down = runNode([stackJs, 'down'], env, 120_000);
  // Whatever happened, leave nothing running.
  for (const p of Object.values(last)) if (isAlive(p.pid)) process.kill(p.pid, 'SIGKILL');
  if (process.env.LEDGER_CRASH_LOGS) cpSync(join(dataDir, 'stack/logs'), process.env.LEDGER_CRASH_LOGS, { recursive: true });
  await kafka?.remove();
  for (const org of ['org1', 'org2', 'org3', 'regulator']) {
    spawnSync('psql', [inject('databaseUrl'), '-qc', `DROP DATABASE IF EXISTS ${prefix}_${org} WITH (FORCE)`]);
  }
  rmSync(dataDir, { recursive: true, force: true });
  expect(down.status).toBe(0);
});

function readStackStateOrEmpty(): Record<string, StackProcess> {
  try {
    return readStackState();
  } catch {
    return nodes ?? {};
  }
}

const finalBlocks: Record<string, BlockItem[]> = {};

describe('ledger nodes killed with SIGKILL under load', () => {
  it('keep taking transactions while each node is killed and restarted, then all reach the same certified head', async () => {
    const startedAt = Date.now();
    // Whatever fails first stops the load, so nothing keeps running after this test.
    const stop = () => (loadStoppedAt ??= Date.now());
    const clients = Array.from({ length: CLIENTS }, (_, i) => client(i).finally(stop));
    const killing = chaos(startedAt)
      .then(() => sleep(startedAt + LOAD_MS - Date.now()))
      .finally(stop);
    await Promise.all([killing, ...clients]);
    expect(load.rejected, 'submissions refused for another reason than a duplicate').toEqual([]);
    expect(load.unresolved, 'submissions whose outcome never became known').toEqual([]);
    expect(new Set(kills.map((k) => k.node))).toEqual(new Set(NODES));

    // Done when every node's newest block is certified, carries all three member
    // signatures, is the same block everywhere, and its log holds at least every accepted transaction.
    const heads = await waitFor(
      'every node to reach the same certified head',
      async () => {
        const tops = await Promise.all(
          NODES.map(async (id) => {
            const head = await certifiedHead(nodes[id].url);
            return { id, items: head ? [head] : [] };
          }),
        );
        const ok = tops.every((t) => t.items.length === 1 && t.items[0].certified && t.items[0].signatures.length === 3 && t.items[0].headerHash === tops[0].items[0]?.headerHash);
        return ok && tops[0].items[0].header.logSize >= load.accepted.size + 1 ? tops.map((t) => ({ id: t.id, blockNumber: t.items[0].blockNumber, headerHash: t.items[0].headerHash })) : undefined;
      },
      150_000,
      1_000,
    ).catch(async (error: Error) => {
      const seen = await Promise.all(NODES.map(async (id) => `${id}: ${JSON.stringify((await getJson(`${nodes[id].url}/ledger/v1/checkpoints/latest`).catch((e: Error) => ({ body: e.message }))).body).slice(0, 200)}`));
      throw new Error(`${error.message}\n${seen.join('\n')}`);
    });
    for (const id of NODES) finalBlocks[id] = await allBlocks(nodes[id].url);
    expect(new Set(heads.map((h) => h.blockNumber)).size).toBe(1);
    expect(new Set(heads.map((h) => h.headerHash)).size).toBe(1);
  }, 300_000);

  it('committed every accepted transaction VALID exactly once on every node, and nothing else', async () => {
    const reference = finalBlocks[NODES[0]];
    expect(reference, 'the load run reached a common head').toBeDefined();
    const report: Record<string, unknown> = {};
    const placeOf = new Map<string, { blockNumber: number; leafIndex: number }>();
    for (const id of NODES) {
      const valid = new Map<string, number>();
      const otherCodes = new Map<string, number>();
      let duplicateCopies = 0;
      for (const block of finalBlocks[id]) {
        for (const t of block.transactions) {
          if (t.code === 'VALID') {
            valid.set(t.transactionId, (valid.get(t.transactionId) ?? 0) + 1);
            if (id === NODES[0]) placeOf.set(t.transactionId, { blockNumber: block.blockNumber, leafIndex: t.leafIndex });
          } else if (t.code === DUPLICATE) duplicateCopies++;
          else otherCodes.set(t.code, (otherCodes.get(t.code) ?? 0) + 1);
        }
      }
      const twice = [...valid].filter(([, n]) => n > 1).map(([tx]) => tx);
      const lost = [...load.accepted].filter((tx) => !valid.has(tx));
      const unexpected = [...valid.keys()].filter((tx) => tx !== genesisId && !load.accepted.has(tx));
      expect(twice, `${id}: transactions VALID more than once`).toEqual([]);
      expect(lost, `${id}: accepted transactions not committed`).toEqual([]);
      expect(unexpected, `${id}: VALID transactions nobody had accepted`).toEqual([]);
      expect(Object.fromEntries(otherCodes), `${id}: invalid results other than re-ordered duplicates`).toEqual({});
      report[id] = { committed: valid.size - 1, duplicated: twice.length, lost: lost.length, reorderedCopiesRecordedAsDuplicate: duplicateCopies };

      // The database agrees: no id is stored VALID twice, and it holds exactly the VALID rows the API serves.
      const db = inject('databaseUrl').replace(/\/[^/?]*(\?.*)?$/, `/${prefix}_${id.replace('ledger-', '')}`);
      const sql = spawnSync('psql', [db, '-Atc', "SELECT count(*), count(DISTINCT transaction_id), (SELECT count(*) FROM (SELECT transaction_id FROM ledger.transactions WHERE code = 'VALID' GROUP BY 1 HAVING count(*) > 1) d) FROM ledger.transactions WHERE code = 'VALID'"], { encoding: 'utf8' });
      expect(sql.status, sql.stderr).toBe(0);
      expect(sql.stdout.trim(), `${id}: VALID rows | distinct ids | ids VALID twice`).toBe(`${valid.size}|${valid.size}|0`);
    }

    // And so does each node's transaction API, for every accepted id, at the same place on every node.
    const accepted = [...load.accepted];
    const answers = await Promise.all(
      NODES.map(async (id) => {
        const wrong = (
          await mapLimit(accepted, 6, async (tx) => {
            const r = await getJson(`${nodes[id].url}/ledger/v1/transactions/${tx}`);
            const b = r.body as { status?: string; code?: string; certified?: boolean; blockNumber?: number; leafIndex?: number };
            const place = placeOf.get(tx);
            const ok = r.status === 200 && b.status === 'committed' && b.code === 'VALID' && b.certified === true && b.blockNumber === place?.blockNumber && b.leafIndex === place?.leafIndex;
            return ok ? undefined : `${tx}: HTTP ${r.status} ${JSON.stringify(b).slice(0, 200)}`;
          })
        ).filter((x) => x !== undefined);
        return { id, wrong };
      }),
    );
    for (const { id, wrong } of answers) expect(wrong, `${id}: GET /ledger/v1/transactions/{id}`).toEqual([]);

    const summary = {
      seed,
      kills: kills.length,
      killed: kills.map((k) => `${k.node}@${(k.atMs / 1000).toFixed(1)}s`).join(' '),
      submitted: load.submitted,
      requests: load.requests,
      batches: load.batches,
      unknownOutcomes: load.unknown,
      accepted: load.accepted.size,
      acceptedOnResubmit: load.acceptedOnResubmit,
      duplicateOnResubmit: load.duplicateOnResubmit,
      perNode: report,
    };
    process.stdout.write(`ledger-crash report: ${JSON.stringify(summary, null, 2)}\n`);
    const committed = Object.values(report).map((r) => (r as { committed: number }).committed);
    process.stdout.write(`ledger-crash: kills ${kills.length}, submitted ${load.submitted}, accepted ${load.accepted.size}, committed ${committed.join('/')}, lost 0, duplicated 0\n`);
    expect(load.submitted).toBe(load.accepted.size);
  }, 240_000);

  it('has the same blocks on every node, each certified by all three members', () => {
    const reference = finalBlocks[NODES[0]];
    expect(reference, 'the load run reached a common head').toBeDefined();
    expect(reference.map((b) => b.blockNumber)).toEqual(reference.map((_, i) => i));
    for (const id of NODES) {
      expect(finalBlocks[id].map((b) => b.headerHash), `${id} header hashes`).toEqual(reference.map((b) => b.headerHash));
      const short = finalBlocks[id].filter((b) => !b.certified || b.signatures.length !== 3).map((b) => `${b.blockNumber}: ${b.signatures.length} signatures`);
      expect(short, `${id}: blocks not certified by every member`).toEqual([]);
    }
  });

  it('`alliance verify chain` passes against every node', async () => {
    const cli = join(root, 'libs/sdk/bin/alliance.js');
    const members = join(dataDir, 'genesis.json');
    // One at a time: each run is CPU-bound, and the machine is small.
    for (const id of NODES) {
      const run = await nodeScript([cli, 'verify', 'chain', '--url', nodes[id].url, '--members', members], 120_000);
      expect(run.code, `${id}: ${run.output}`).toBe(0);
      expect(run.output).toMatch(/chain OK/);
    }
  }, 240_000);
});
