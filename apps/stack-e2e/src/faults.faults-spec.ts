import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, privateKafka, type PrivateKafka } from '@alliance/shared/testing';
import { type Envelope, fromHex, transactionId } from '@alliance/protocol';
import { type Session, signIn } from '@alliance/sdk';
import { certifiedHead, mapLimit, nodeScript, pick, seeded, shuffled, sleep } from './chaos';
import { CuttableProxy, OwnPostgres } from './fault-infra';
import { anchorEnvelopes } from './ledger-client';
import { getJson, isAlive, root, tempDir, waitFor } from './support';

// The fault suite (`npm run test:faults`, docs/reliability.md): the whole stack (`npm run stack`) on a
// PostgreSQL cluster and a Kafka broker of its own, under steady load through the gateway and the members'
// nodes, while a seeded schedule kill -9s a ledger node, every service, the broker and the postmaster, and
// cuts org3's node off from Kafka through a TCP proxy and heals it. Afterwards: no accepted transaction lost
// or duplicated on any node, every node at the same certified head, `alliance verify chain` passes on each,
// every read model equals its rebuild, every outbox drained. Writes test-results/faults/report.json.
// FAULT_SEED=<n> replays a run's choices; FAULT_DURATION_S (load window, default 150), FAULT_COUNT (default 13).

interface StackProcess {
  id: string;
  service: string;
  pid: number;
  url: string;
}

const PORT = 3900; // the stack takes 3900..3915
const PG_PORT = 54410;
const seed = Number(process.env.FAULT_SEED ?? Date.now() % 2_147_483_647);
const DURATION_MS = Number(process.env.FAULT_DURATION_S ?? 120) * 1000;
const FAULT_COUNT = Math.max(10, Number(process.env.FAULT_COUNT ?? 12));
const NODES = ['ledger-org1', 'ledger-org2', 'ledger-org3', 'ledger-regulator'];
const SERVICES = ['identity', 'provenance', 'finance', 'audit', 'audit-regulator', 'gateway'];
const CUT_ORG = 'org3';
const DUPLICATE = 'LEDGER.DUPLICATE_TRANSACTION';
const base = `http://127.0.0.1:${PORT}`;
const dataDir = tempDir('faults');
const pgDir = tempDir('faults-pg');
const prefix = `faults_${process.pid}`;
const reportDir = join(root, 'test-results/faults');
const stackJs = join(root, 'tools/stack.js');
const started = Date.now();

let pg: OwnPostgres;
let kafka: PrivateKafka;
let kafkaEnv: Record<string, string>;
let proxy: CuttableProxy;
let env: NodeJS.ProcessEnv;
let nodes: Record<string, StackProcess>;

const stack = (args: string[], timeoutMs = 150_000) => nodeScript([stackJs, ...args], env, timeoutMs);
const elapsed = () => Date.now() - started;
const say = (m: string) => process.stdout.write(`faults: t=${(elapsed() / 1000).toFixed(1)}s ${m}\n`);
const dbOf = (org: string) => pg.url.replace(/\/postgres$/, `/${prefix}_${org}`);

function readStackState(): Record<string, StackProcess> {
  const state = JSON.parse(readFileSync(join(dataDir, 'stack/state.json'), 'utf8')) as { processes: StackProcess[] };
  return Object.fromEntries(state.processes.map((p) => [p.id, p]));
}

async function sql<T = Record<string, unknown>>(org: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: dbOf(org), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Every process of the stack answers /health/ready (PostgreSQL and Kafka up for each); the ones that are not, otherwise. */
async function notReady(): Promise<string[]> {
  const state = readStackState();
  const bad = await Promise.all(
    Object.values(state).map(async (p) => {
      if (!isAlive(p.pid)) return `${p.id} (${downNow.has(p.id) ? 'down' : 'exited'})`;
      const r = await getJson(`${p.url}/health/ready`).catch(() => ({ status: 0 }));
      return r.status === 200 ? undefined : p.id;
    }),
  );
  return bad.filter((x): x is string => x !== undefined);
}
async function allReady(timeoutMs = 180_000): Promise<void> {
  let last: string[] = [];
  let shown = Date.now();
  await waitFor(
    'every process ready',
    async () => {
      last = await notReady();
      if (Date.now() - shown > 15_000) {
        shown = Date.now();
        say(`waiting for ${last.join(', ')}`);
      }
      return last.length === 0 ? true : undefined;
    },
    timeoutMs,
    250,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; not ready: ${last.join(', ')}\n${last.map((id) => logTail(id.split(' ')[0])).join('\n')}`);
  });
}

// ------------------------------------------------------------------ load

let stoppedAt: number | undefined;
const stopping = () => stoppedAt !== undefined;
const gaveUp = () => stoppedAt !== undefined && Date.now() > stoppedAt + 90_000;

/** Where each accepted id came from, for the report of anything lost. */
const origin = new Map<string, string>();
const ledgerLoad = { submitted: 0, requests: 0, unknown: 0, acceptedFirstTime: 0, acceptedOnResubmit: 0, duplicateOnResubmit: 0, accepted: new Set<string>(), rejected: [] as string[], unresolved: [] as string[] };
const captureLoad = { submitted: 0, requests: 0, unknown: 0, accepted: new Map<string, string>(), rejected: [] as string[], unresolved: [] as string[], signIns: 0 };

type Outcome = 'accepted' | 'duplicate' | 'unknown' | { rejected: string };

async function submit(url: string, envelope: Envelope): Promise<Outcome> {
  ledgerLoad.requests++;
  try {
    const res = await fetch(`${url}/ledger/v1/transactions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope), signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    if (res.status === 202) return 'accepted';
    if (res.status === 409 && text.includes(DUPLICATE)) return 'duplicate';
    if (res.status >= 500 || res.status === 429) return 'unknown';
    return { rejected: `${url} HTTP ${res.status} ${text.slice(0, 300)}` };
  } catch {
    return 'unknown';
  }
}

/** A careful client: an unknown outcome (connection error, timeout, 5xx) sends the same envelope again; a 409 duplicate then means an earlier attempt was accepted. */
async function ledgerClient(index: number): Promise<void> {
  const rng = seeded(seed + 1000 * (index + 1));
  const org = ['org1', 'org2', 'org3'][index];
  // org1 submits through the gateway (to its own node); org2 and org3 to their own nodes.
  const url = index === 0 ? base : nodes[`ledger-${org}`].url;
  while (!stopping()) {
    const [envelope] = anchorEnvelopes(dataDir, org, 1);
    const id = transactionId(envelope.transaction);
    ledgerLoad.submitted++;
    for (let attempt = 0; ; attempt++) {
      const outcome = await submit(url, envelope);
      if (outcome === 'accepted' || (outcome === 'duplicate' && attempt > 0)) {
        ledgerLoad.accepted.add(id);
        origin.set(id, `${org} via ${url} at t=${(elapsed() / 1000).toFixed(1)}s, attempt ${attempt + 1}${outcome === 'duplicate' ? ' (409 duplicate)' : ''}`);
        if (outcome === 'duplicate') ledgerLoad.duplicateOnResubmit++;
        else if (attempt > 0) ledgerLoad.acceptedOnResubmit++;
        else ledgerLoad.acceptedFirstTime++;
        break;
      }
      if (outcome === 'duplicate') {
        ledgerLoad.rejected.push(`${id}: a fresh envelope refused as a duplicate`);
        break;
      }
      if (typeof outcome === 'object') {
        ledgerLoad.rejected.push(outcome.rejected);
        break;
      }
      ledgerLoad.unknown++;
      if (gaveUp()) {
        ledgerLoad.unresolved.push(id);
        break;
      }
      await sleep(200 + rng() * 800);
    }
    await sleep(150 + rng() * 350);
  }
}

/** org1's connector captures one EPCIS event at a time through the gateway, each with its own Idempotency-Key, retried with the same key. */
async function captureClient(): Promise<void> {
  const rng = seeded(seed + 77);
  const key = JSON.parse(readFileSync(join(dataDir, 'demo-keys/org1.key.json'), 'utf8')) as { privateKey: string };
  let session: Session | undefined;
  const authorization = async (): Promise<string | undefined> => {
    try {
      if (!session) {
        captureLoad.signIns++;
        session = await signIn(base, { organizationId: 'org1', algorithm: 'ed25519', privateKey: fromHex(key.privateKey) });
      }
      return await session.authorizationHeader();
    } catch {
      session = undefined; // identity or the gateway away, or the refresh token spent by a lost answer: sign in again
      return undefined;
    }
  };
  for (let n = 0; !stopping(); n++) {
    const idempotencyKey = `faults-${seed}-${n}`;
    const document = {
      '@context': ['https://ref.gs1.org/standards/epcis/epcis-context.jsonld'],
      type: 'EPCISDocument',
      schemaVersion: '2.0',
      creationDate: new Date().toISOString(),
      epcisBody: { eventList: [{ type: 'ObjectEvent', eventTime: new Date().toISOString(), eventTimeZoneOffset: '+00:00', action: 'ADD', epcList: [`urn:epc:id:sgtin:0614141.107346.F${seed}-${n}`], bizStep: 'commissioning', disposition: 'active', readPoint: { id: 'urn:epc:id:sgln:0614141.00001.0' } }] },
    };
    captureLoad.submitted++;
    for (;;) {
      const auth = await authorization();
      if (auth) {
        captureLoad.requests++;
        try {
          const res = await fetch(`${base}/provenance/v1/epcis/capture`, { method: 'POST', headers: { 'content-type': 'application/ld+json', authorization: auth, 'idempotency-key': idempotencyKey }, body: JSON.stringify(document), signal: AbortSignal.timeout(10_000) });
          const text = await res.text();
          if (res.status === 202 || res.status === 200) {
            captureLoad.accepted.set(idempotencyKey, String((JSON.parse(text) as { captureID: string }).captureID));
            break;
          }
          if (res.status === 401) session = undefined;
          else if (res.status < 500 && res.status !== 429) {
            captureLoad.rejected.push(`${idempotencyKey}: HTTP ${res.status} ${text.slice(0, 300)}`);
            break;
          }
        } catch {
          // unknown outcome: the same document with the same key again
        }
      }
      captureLoad.unknown++;
      if (gaveUp()) {
        captureLoad.unresolved.push(idempotencyKey);
        break;
      }
      await sleep(300 + rng() * 700);
    }
    await sleep(600 + rng() * 900);
  }
}

// ------------------------------------------------------------------ faults

interface Fault {
  kind: 'ledger-node' | 'service' | 'kafka' | 'postgres' | 'network';
  target: string;
  atS: number;
  pid?: number;
  downtimeMs: number;
  /** From the restart (or heal) until the process is ready / every process is ready again. */
  recoveryMs?: number;
  /** Ledger node or cut-off node: from the restart (heal) until it stands at the head the others had then, with the same header hash. */
  caughtUpMs?: number;
  note?: string;
}
const faults: Fault[] = [];
/** Processes a fault has killed and not yet started again. */
const downNow = new Set<string>();

function plan(rng: () => number): Array<Pick<Fault, 'kind' | 'target'>> {
  const ledger = () => ({ kind: 'ledger-node' as const, target: pick(rng, NODES) });
  const each = [ledger(), ...SERVICES.map((s) => ({ kind: 'service' as const, target: s })), { kind: 'kafka' as const, target: 'broker' }, { kind: 'postgres' as const, target: 'postmaster' }, { kind: 'network' as const, target: `ledger-${CUT_ORG}` }];
  const extra = [ledger, () => ({ kind: 'kafka' as const, target: 'broker' }), () => ({ kind: 'postgres' as const, target: 'postmaster' })];
  const all: Array<Pick<Fault, 'kind' | 'target'>> = [...each];
  for (let i = 0; all.length < FAULT_COUNT; i++) all.push(extra[i % extra.length]());
  return shuffled(rng, all);
}

/** A node stands at least at the others' head of `since`, and agrees with them on that block. */
async function caughtUp(id: string, others: string[]): Promise<number> {
  // The others that answer (another may be down itself at this moment: faults overlap).
  const target = Math.max(...(await Promise.all(others.map(async (o) => (await certifiedHead(nodes[o].url).catch(() => undefined))?.blockNumber ?? 0))));
  const t0 = Date.now();
  await waitFor(
    `${id} to reach block ${target}`,
    async () => {
      const head = await certifiedHead(nodes[id].url);
      if (!head || head.blockNumber < target) return undefined;
      const hashes = await Promise.all([id, ...others].map(async (o) => ((await getJson(`${nodes[o].url}/ledger/v1/blocks/${target}`)).body as { headerHash?: string }).headerHash));
      if (new Set(hashes).size !== 1 || !hashes[0]) throw new Error(`${id} disagrees at block ${target}: ${hashes.join(' ')}`);
      return true;
    },
    240_000, // a restarted node replays the log it missed; minutes when the machine is busy
    250,
  );
  return Date.now() - t0;
}

function kafkaSh(command: 'start' | 'status'): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    // kafka.sh with this broker's whole environment, the proxied listener included.
    execFile('bash', [join(root, 'deploy/kafka/kafka.sh'), command], { env: { ...process.env, ...kafkaEnv }, timeout: 180_000 }, (error, stdout, stderr) => resolve({ code: error ? 1 : 0, output: `${stdout}${stderr}` }));
  });
}

async function inject(rng: () => number, f: Pick<Fault, 'kind' | 'target'>): Promise<void> {
  const fault: Fault = { ...f, atS: Math.round(elapsed() / 100) / 10, downtimeMs: Math.round(500 + rng() * 3500) };
  if (f.kind === 'ledger-node' || f.kind === 'service') {
    fault.pid = readStackState()[f.target].pid;
    downNow.add(f.target);
    const killed = await stack(['kill', f.target, '--signal', 'KILL'], 30_000);
    if (killed.code !== 0) throw new Error(`stack kill ${f.target}: ${killed.output}`);
    say(`kill -9 ${f.target} (pid ${fault.pid}); down ${fault.downtimeMs} ms`);
    await sleep(fault.downtimeMs);
    const t0 = Date.now();
    const startedAgain = await stack(['start', f.target]);
    if (startedAgain.code !== 0) throw new Error(`stack start ${f.target}: ${startedAgain.output}\n${logTail(f.target)}`);
    fault.recoveryMs = Date.now() - t0;
    downNow.delete(f.target);
    if (f.kind === 'ledger-node') fault.caughtUpMs = fault.recoveryMs + (await caughtUp(f.target, NODES.filter((n) => n !== f.target)));
  } else if (f.kind === 'kafka') {
    fault.pid = Number(readFileSync(join(kafkaEnv.KAFKA_HOME, 'kafka.pid'), 'utf8').trim());
    process.kill(fault.pid, 'SIGKILL');
    await waitFor('the broker to die', async () => (isAlive(fault.pid!) ? undefined : true), 10_000, 50);
    say(`kill -9 Kafka broker (pid ${fault.pid}); down ${fault.downtimeMs} ms`);
    await sleep(fault.downtimeMs);
    const t0 = Date.now();
    const r = await kafkaSh('start');
    if (r.code !== 0) throw new Error(`kafka.sh start: ${r.output}`);
    await allReady();
    fault.recoveryMs = Date.now() - t0;
  } else if (f.kind === 'postgres') {
    fault.pid = pg.kill9();
    say(`kill -9 PostgreSQL postmaster (pid ${fault.pid}); down ${fault.downtimeMs} ms`);
    await sleep(fault.downtimeMs);
    const t0 = Date.now();
    await pg.start();
    await allReady();
    fault.recoveryMs = Date.now() - t0;
  } else {
    fault.downtimeMs = Math.round(8_000 + rng() * 8_000);
    proxy.cut();
    say(`network: ${f.target} cut off from Kafka for ${fault.downtimeMs} ms`);
    await sleep(fault.downtimeMs);
    fault.note = `${proxy.refused} connection attempts refused while cut`;
    proxy.heal();
    const t0 = Date.now();
    await allReady();
    fault.recoveryMs = Date.now() - t0;
    fault.caughtUpMs = await caughtUp(f.target, NODES.filter((n) => n !== f.target));
  }
  // Nothing else may have died meanwhile (a service that exits when PostgreSQL or Kafka goes away does not recover by itself).
  const dead = Object.values(readStackState()).filter((p) => !downNow.has(p.id) && !isAlive(p.pid));
  if (dead.length > 0) throw new Error(`after ${f.kind} ${f.target}: ${dead.map((p) => p.id).join(', ')} exited\n${dead.map((p) => logTail(p.id)).join('\n')}`);
  faults.push(fault);
  say(`${f.kind} ${f.target}: recovered in ${fault.recoveryMs} ms${fault.caughtUpMs !== undefined ? `, caught up in ${fault.caughtUpMs} ms` : ''}`);
}

function logTail(id: string, lines = 15): string {
  try {
    return `--- ${id}:\n${readFileSync(join(dataDir, 'stack/logs', `${id}.log`), 'utf8').trimEnd().split('\n').slice(-lines).join('\n')}`;
  } catch {
    return `--- ${id}: no log`;
  }
}

/**
 * The seeded schedule, one fault every slot: a killed process restarts in the background while the next
 * fault may already strike (at most two processes down at once); the broker, PostgreSQL and the network
 * cut wait until every restart is done, so their recovery time is theirs alone.
 */
async function chaos(loadStart: number): Promise<void> {
  const rng = seeded(seed);
  const schedule = plan(rng);
  const slot = (DURATION_MS - 30_000) / schedule.length;
  const pending = new Set<Promise<void>>();
  const failures: unknown[] = [];
  for (let i = 0; i < schedule.length && failures.length === 0; i++) {
    const at = loadStart + 5_000 + (i + rng() * 0.5) * slot;
    if (Date.now() < at) await sleep(at - Date.now());
    const f = schedule[i];
    const inProcess = f.kind === 'ledger-node' || f.kind === 'service';
    while (pending.size > (inProcess ? 1 : 0)) await Promise.race(pending);
    const p: Promise<void> = inject(rng, f)
      .catch((error: unknown) => void failures.push(error))
      .finally(() => pending.delete(p));
    pending.add(p);
    if (!inProcess) await p;
  }
  await Promise.all(pending);
  if (failures.length > 0) throw failures[0];
}

// ------------------------------------------------------------------ lifecycle

beforeAll(async () => {
  say(`seed ${seed} (FAULT_SEED=${seed} replays this run's choices); load ${DURATION_MS / 1000} s, ${FAULT_COUNT} faults`);
  pg = new OwnPostgres(pgDir, PG_PORT); // its own temp dir: the postgres user cannot enter dataDir (0700, root)
  kafka = await privateKafka('alliance-faults');
  const [proxiedPort, proxyPort] = [await freePort(), await freePort()];
  kafkaEnv = { ...kafka.env, KAFKA_PROXIED_PORT: String(proxiedPort), KAFKA_PROXIED_ADVERTISED: `127.0.0.1:${proxyPort}` };
  proxy = new CuttableProxy(proxyPort, { host: '127.0.0.1', port: proxiedPort });
  await Promise.all([pg.init(), proxy.listen()]);
  env = { ...process.env, ...kafkaEnv, PORT: String(PORT), ALLIANCE_DATA_DIR: dataDir, STACK_DB_PREFIX: prefix, DATABASE_URL: pg.url, LOG_LEVEL: 'info', [`STACK_KAFKA_BROKERS_${CUT_ORG.toUpperCase()}`]: `127.0.0.1:${proxyPort}` };
  delete env.KAFKA_BROKERS; // `up` starts this broker itself through kafka.sh
  const up = await stack(['up'], 300_000);
  if (up.code !== 0) throw new Error(`stack up failed:\n${up.output}`);
  nodes = readStackState();
  say('stack up');
}, 360_000);

afterAll(async () => {
  stoppedAt ??= Date.now();
  writeReport();
  // Every step, whatever failed before it: nothing of this run may stay behind (PostgreSQL on 54410 least of all).
  const steps: Array<[string, () => Promise<unknown> | unknown]> = [
    ['stack down', async () => {
      const pids = existsSync(join(dataDir, 'stack/state.json')) ? Object.values(readStackState()).map((p) => p.pid) : [];
      const down = await stack(['down'], 120_000);
      for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
      if (down.code !== 0) throw new Error(down.output);
    }],
    ['logs', () => {
      rmSync(join(reportDir, 'logs'), { recursive: true, force: true });
      if (existsSync(join(dataDir, 'stack/logs'))) cpSync(join(dataDir, 'stack/logs'), join(reportDir, 'logs'), { recursive: true, force: true });
    }],
    ['kafka', () => kafka?.remove()],
    ['proxy', () => proxy?.close()],
    ['postgres', () => pg?.stop()],
    ['files', () => [dataDir, pgDir].forEach((d) => rmSync(d, { recursive: true, force: true }))],
  ];
  const failed: string[] = [];
  for (const [name, step] of steps) {
    try {
      if (name !== 'stack down' || env) await step();
    } catch (error) {
      failed.push(`${name}: ${(error as Error).message}`);
    }
  }
  expect(failed, 'teardown').toEqual([]);
}, 180_000);

// ------------------------------------------------------------------ the run and its checks

const report: Record<string, unknown> = { seed, command: 'npm run test:faults', startedAt: new Date(started).toISOString() };
let expected: Set<string>;
let committedEverywhere = false;

describe('kill -9 of every kind of process and a network cut, under load', () => {
  it('keeps taking transactions through every fault; every process recovers', async () => {
    const loadStart = Date.now();
    const clients = [0, 1, 2].map((i) => ledgerClient(i)).concat(captureClient());
    const stop = () => (stoppedAt ??= Date.now());
    const run = chaos(loadStart)
      .then(async () => sleep(Math.max(0, loadStart + DURATION_MS - Date.now())))
      .finally(stop);
    await Promise.all([run, ...clients.map((c) => c.finally(stop))]);
    report.loadSeconds = Math.round((stoppedAt! - loadStart) / 1000);
    report.faults = faults;
    expect(ledgerLoad.rejected, 'ledger submissions refused for another reason than a duplicate of an earlier attempt').toEqual([]);
    expect(captureLoad.rejected, 'captures refused').toEqual([]);
    expect(ledgerLoad.unresolved, 'ledger submissions whose outcome never became known').toEqual([]);
    expect(captureLoad.unresolved, 'captures whose outcome never became known').toEqual([]);
    expect(faults.length).toBe(FAULT_COUNT);
    expect(new Set(faults.map((f) => f.kind))).toEqual(new Set(['ledger-node', 'service', 'kafka', 'postgres', 'network']));
    await allReady();
  }, 900_000);

  it('commits every accepted transaction VALID exactly once on every node, and every capture job once', async () => {
    // Capture jobs settle (their worker follows each to a verdict), then their transactions join the expected set.
    const captureIds = [...captureLoad.accepted.values()];
    const jobs = await waitFor(
      'every accepted capture job to finish',
      async () => {
        const rows = await sql<{ capture_id: string; status: string; transaction_id: string | null; event_ids: string[]; errors: unknown }>('org1', 'SELECT capture_id, status, transaction_id, event_ids, errors FROM provenance.capture_jobs WHERE capture_id = ANY($1)', [captureIds]);
        return rows.length === captureIds.length && rows.every((r) => r.status === 'committed' || r.status === 'failed') ? rows : undefined;
      },
      120_000,
      1_000,
    );
    expect(jobs.filter((j) => j.status !== 'committed').map((j) => `${j.capture_id}: ${JSON.stringify(j.errors)}`), 'capture jobs that did not commit').toEqual([]);
    const [{ n: jobsForKeys }] = await sql<{ n: string }>('org1', 'SELECT count(*) AS n FROM provenance.capture_jobs WHERE idempotency_key LIKE $1', [`faults-${seed}-%`]);
    expect(Number(jobsForKeys), 'one job per Idempotency-Key').toBe(captureLoad.accepted.size);
    const eventIds = jobs.flatMap((j) => j.event_ids);
    expected = new Set([...ledgerLoad.accepted, ...jobs.map((j) => j.transaction_id!)]);
    for (const j of jobs) origin.set(j.transaction_id!, `capture job ${j.capture_id}`);

    const perNode: Record<string, { committed: number; lost: number; duplicated: number }> = {};
    const lostIds: Record<string, string[]> = {};
    await waitFor(
      'every accepted transaction committed on every node',
      async () => {
        for (const id of NODES) {
          const org = id.replace('ledger-', '');
          const rows = await sql<{ transaction_id: string; n: string }>(org, "SELECT transaction_id, count(*) AS n FROM ledger.transactions WHERE code = 'VALID' AND transaction_id = ANY($1) GROUP BY 1", [[...expected]]);
          const [{ twice }] = await sql<{ twice: string }>(org, "SELECT count(*) AS twice FROM (SELECT transaction_id FROM ledger.transactions WHERE code = 'VALID' GROUP BY 1 HAVING count(*) > 1) d");
          const found = new Set(rows.map((r) => r.transaction_id));
          lostIds[id] = [...expected].filter((tx) => !found.has(tx)).slice(0, 20).map((tx) => `${tx}: ${origin.get(tx) ?? '?'}`);
          perNode[id] = { committed: rows.length, lost: expected.size - rows.length, duplicated: Number(twice) + rows.filter((r) => Number(r.n) > 1).length };
        }
        return Object.values(perNode).every((p) => p.lost === 0) ? true : undefined;
      },
      150_000,
      2_000,
    ).catch(() => undefined);
    report.transactions = {
      ledgerSubmitted: ledgerLoad.submitted,
      ledgerRequests: ledgerLoad.requests,
      ledgerAccepted: ledgerLoad.accepted.size,
      acceptedFirstTime: ledgerLoad.acceptedFirstTime,
      acceptedOnResubmit: ledgerLoad.acceptedOnResubmit,
      duplicateOnResubmit: ledgerLoad.duplicateOnResubmit,
      unknownOutcomes: ledgerLoad.unknown,
      capturesSubmitted: captureLoad.submitted,
      capturesAccepted: captureLoad.accepted.size,
      captureRetries: captureLoad.unknown,
      signIns: captureLoad.signIns,
      expected: expected.size,
      perNode,
      lost: Math.max(...Object.values(perNode).map((p) => p.lost)),
      duplicated: Math.max(...Object.values(perNode).map((p) => p.duplicated)),
      lostIds,
    };
    for (const id of NODES) expect(perNode[id], id).toEqual({ committed: expected.size, lost: 0, duplicated: 0 });
    expect(ledgerLoad.submitted).toBe(ledgerLoad.accepted.size);
    expect(captureLoad.submitted).toBe(captureLoad.accepted.size);

    // Each captured event is in org1's EPCIS repository exactly once (event_id is unique there; all of them present).
    const [{ n: events }] = await sql<{ n: string }>('org1', 'SELECT count(DISTINCT event_id) AS n FROM provenance.events WHERE event_id = ANY($1)', [eventIds]);
    expect(Number(events)).toBe(eventIds.length);
    committedEverywhere = true;
  }, 400_000);

  it('stands every node at the same certified head, certified by all three members; `alliance verify chain` passes on each', async () => {
    expect(committedEverywhere, 'the previous check passed').toBe(true);
    const heads = await waitFor(
      'the same certified head on every node',
      async () => {
        const tops = await Promise.all(NODES.map(async (id) => ({ id, head: await certifiedHead(nodes[id].url) })));
        const first = tops[0].head;
        return first && tops.every((t) => t.head && t.head.headerHash === first.headerHash && t.head.signatures.length === 3) ? tops.map((t) => ({ node: t.id, blockNumber: t.head!.blockNumber, headerHash: t.head!.headerHash })) : undefined;
      },
      60_000,
      1_000,
    );
    report.heads = heads;
    const cli = join(root, 'libs/sdk/bin/alliance.js');
    const verified: Record<string, number> = {};
    for (const id of NODES) {
      const t0 = Date.now();
      const r = await nodeScript([cli, 'verify', 'chain', '--url', nodes[id].url, '--members', join(dataDir, 'genesis.json')], env, 180_000);
      expect(r.code, `${id}: ${r.output}`).toBe(0);
      expect(r.output).toMatch(/chain OK/);
      verified[id] = Date.now() - t0;
    }
    report.verifyChainMs = verified;
  }, 600_000);

  it('every read model equals a rebuild from the ledger', async () => {
    const head = (await certifiedHead(nodes['ledger-org1'].url))!.blockNumber;
    const models: Record<string, string[]> = {
      identity: ['state', 'state_history'],
      provenance: ['events', 'event_epcs', 'event_biz_transactions', 'event_parties', 'event_sensor_reports', 'lineage', 'problems', 'chain_state', 'chain_state_history', 'sensor_readings', 'sensor_alerts', 'stock'],
      finance: ['receivables', 'financings', 'credit_lines', 'payments', 'payment_allocations', 'warehouse_receipts', 'leases', 'lease_payments', 'documents', 'chain_state', 'chain_state_history'],
    };
    const snapshot = async (schema: string) =>
      Object.fromEntries(
        await mapLimit(models[schema], 4, async (table) => {
          // Row by row as jsonb text (canonical), in a fixed order; found_at is when, not what.
          const [row] = await sql<{ n: string; h: string }>('org1', `SELECT count(*) AS n, md5(coalesce(string_agg(r, E'\\n' ORDER BY r), '')) AS h FROM (SELECT (to_jsonb(t) - 'found_at')::text AS r FROM ${schema}.${table} t) x`);
          return [table, `${row.n}:${row.h}`] as const;
        }),
      );
    const key = JSON.parse(readFileSync(join(dataDir, 'demo-keys/org1.key.json'), 'utf8')) as { privateKey: string };
    const session = await signIn(base, { organizationId: 'org1', algorithm: 'ed25519', privateKey: fromHex(key.privateKey) });
    const result: Record<string, { lastBlock: number; tables: number; rows: number; equal: boolean; rebuildMs: number }> = {};
    for (const schema of Object.keys(models)) {
      await waitFor(`the ${schema} read model at block ${head}`, async () => ((await sql<{ last_block: string }>('org1', `SELECT last_block FROM ${schema}.projection`))[0].last_block === String(head) ? true : undefined), 60_000, 500);
      const before = await snapshot(schema);
      // A rebuild answers once it is back at the node's head: minutes on a busy 2-core machine, not getJson's 10 s.
      const t0 = Date.now();
      const res = await fetch(`${base}/${schema}/v1/read-model/rebuild`, { method: 'POST', headers: { authorization: await session.authorizationHeader() }, signal: AbortSignal.timeout(240_000) });
      const body = (await res.json()) as { lastBlock: number };
      expect(res.status, `${schema} rebuild: ${JSON.stringify(body)}`).toBe(200);
      expect(body.lastBlock).toBeGreaterThanOrEqual(head);
      const rebuildMs = Date.now() - t0;
      const after = await snapshot(schema);
      expect(after, `${schema}: the read model after the faults, then rebuilt from the ledger`).toEqual(before);
      result[schema] = { lastBlock: head, tables: Object.keys(before).length, rows: Object.values(before).reduce((a, v) => a + Number(v.split(':')[0]), 0), equal: true, rebuildMs };
    }
    report.readModels = result;
    await session.logout();
  }, 900_000);

  it('drains every outbox', async () => {
    const outboxes = await waitFor(
      'every outbox drained',
      async () => {
        const rows: Array<{ org: string; schema: string; total: number; pending: number }> = [];
        for (const org of ['org1', 'org2', 'org3', 'regulator']) {
          const schemas = await sql<{ s: string }>(org, "SELECT table_schema AS s FROM information_schema.tables WHERE table_name = 'outbox' ORDER BY 1");
          for (const { s } of schemas) {
            const [c] = await sql<{ total: string; pending: string }>(org, `SELECT count(*) AS total, count(*) FILTER (WHERE published_at IS NULL) AS pending FROM "${s}".outbox`);
            rows.push({ org, schema: s, total: Number(c.total), pending: Number(c.pending) });
          }
        }
        return rows.every((r) => r.pending === 0) ? rows : undefined;
      },
      90_000,
      1_000,
    );
    report.outboxes = outboxes.filter((o) => o.total > 0);
    expect(outboxes.length).toBeGreaterThan(0);
  }, 120_000);
});

function writeReport(): void {
  report.durationS = Math.round(elapsed() / 1000);
  mkdirSync(reportDir, { recursive: true });
  writeFileSync(join(reportDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  const t = report.transactions as { ledgerAccepted: number; capturesAccepted: number; expected: number; perNode: Record<string, { committed: number }>; lost: number; duplicated: number } | undefined;
  const lines = [
    `fault suite report (seed ${seed}, ${report.durationS} s): test-results/faults/report.json`,
    ...faults.map((f) => `  ${String(f.atS).padStart(6)} s  ${f.kind.padEnd(11)} ${f.target.padEnd(16)} pid ${String(f.pid ?? '-').padEnd(7)} down ${String(f.downtimeMs).padStart(5)} ms  recovered ${String(f.recoveryMs ?? '-').padStart(5)} ms${f.caughtUpMs !== undefined ? `  caught up ${f.caughtUpMs} ms` : ''}`),
    `  faults ${faults.length}; transactions submitted ${ledgerLoad.submitted} + captures ${captureLoad.submitted}, accepted ${t?.ledgerAccepted ?? ledgerLoad.accepted.size} + ${t?.capturesAccepted ?? captureLoad.accepted.size}, committed ${t ? Object.values(t.perNode).map((p) => p.committed).join('/') : '?'} of ${t?.expected ?? '?'}, lost ${t?.lost ?? '?'}, duplicated ${t?.duplicated ?? '?'}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
