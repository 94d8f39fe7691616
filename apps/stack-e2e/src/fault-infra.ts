import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { findPostgresBinDir } from '@alliance/shared/testing';
import { sleep } from './chaos';

// Infrastructure the fault suite may break: a PostgreSQL cluster of its own (so `kill -9` of its
// postmaster disturbs nobody else's server) and a TCP proxy that cuts one organization off from Kafka.

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs }, (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: `${stdout}${stderr}` }));
  });
}

/**
 * initdb + pg_ctl in `dir` on `port`, durable settings (fsync on: what survives a crash here is what
 * survives one in production). As root it runs as the `postgres` user, which PostgreSQL requires.
 */
export class OwnPostgres {
  readonly url: string;
  private readonly data: string;
  private readonly log: string;
  private readonly bin: string;

  constructor(
    private readonly dir: string,
    readonly port: number,
  ) {
    const bin = findPostgresBinDir();
    if (!bin) throw new Error('no initdb/pg_ctl (install PostgreSQL)');
    this.bin = bin;
    this.data = join(dir, 'data');
    this.log = join(dir, 'postgres.log');
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  }

  private pg(tool: string, args: string[], timeoutMs = 120_000) {
    const asRoot = process.getuid?.() === 0;
    return asRoot ? run('runuser', ['-u', 'postgres', '--', join(this.bin, tool), ...args], timeoutMs) : run(join(this.bin, tool), args, timeoutMs);
  }

  async init(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    if (process.getuid?.() === 0) {
      const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres'], 5000), run('id', ['-g', 'postgres'], 5000)]);
      chownSync(this.dir, Number(uid.output.trim()), Number(gid.output.trim()));
    }
    const r = await this.pg('initdb', ['-D', this.data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C']);
    if (r.code !== 0) throw new Error(`initdb failed: ${r.output}`);
    await this.start();
  }

  /** Starts the postmaster; after a kill -9 it retries while the dead server's backends still hold its shared memory. */
  async start(timeoutMs = 60_000): Promise<void> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c max_connections=300`;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.pg('pg_ctl', ['-D', this.data, '-l', this.log, '-o', options, '-w', '-t', '60', 'start'], 90_000);
      if (r.code === 0) return;
      if (Date.now() > deadline) throw new Error(`pg_ctl start failed: ${r.output}\n${this.logTail()}`);
      await sleep(500);
    }
  }

  /** The postmaster's pid, from postmaster.pid. */
  pid(): number | undefined {
    const file = join(this.data, 'postmaster.pid');
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }

  /** SIGKILL to the postmaster (its backends notice and exit; the next start runs crash recovery). */
  kill9(): number {
    const pid = this.pid();
    if (!pid) throw new Error('PostgreSQL is not running (no postmaster.pid)');
    process.kill(pid, 'SIGKILL');
    return pid;
  }

  async stop(): Promise<void> {
    await this.pg('pg_ctl', ['-D', this.data, '-m', 'immediate', '-w', 'stop'], 60_000);
  }

  logTail(lines = 20): string {
    return existsSync(this.log) ? readFileSync(this.log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '';
  }
}

/**
 * A TCP proxy on 127.0.0.1:`port` to `target`. `cut()` destroys every connection and refuses new ones
 * (accepted and closed at once) until `heal()`: what a network partition looks like to a client.
 */
export class CuttableProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private cutAt?: number;
  connections = 0;
  refused = 0;

  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  listen(): Promise<void> {
    this.server = createServer((client) => {
      if (this.cutAt !== undefined) {
        this.refused++;
        client.destroy();
        return;
      }
      this.connections++;
      const upstream = connect(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
    });
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  get isCut(): boolean {
    return this.cutAt !== undefined;
  }

  cut(): void {
    this.cutAt = Date.now();
    for (const s of this.sockets) s.destroy();
  }

  heal(): void {
    this.cutAt = undefined;
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
