import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { SERVICE_RUNTIME } from './tokens';
import type { ServiceRuntime } from './runtime';
import { Public } from './access';

export interface CheckResult {
  readonly status: 'up' | 'down';
  readonly latencyMs: number;
  readonly detail?: string;
}

/** A dependency the service needs to serve (PostgreSQL, Kafka, …). */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<{ ok: boolean; detail?: string }>;
}

export interface HealthReport {
  readonly status: 'ok' | 'error';
  readonly service: string;
  readonly version: string;
  readonly live: boolean;
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, CheckResult>>;
}

const CHECK_TIMEOUT_MS = 2_500;

export async function runChecks(checks: readonly ReadinessCheck[]): Promise<Record<string, CheckResult>> {
  const entries = await Promise.all(
    checks.map(async (c): Promise<[string, CheckResult]> => {
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        const result = await Promise.race([
          c.check(),
          new Promise<{ ok: boolean; detail?: string }>((resolve) => {
            timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${CHECK_TIMEOUT_MS} ms` }), CHECK_TIMEOUT_MS);
          }),
        ]);
        return [c.name, { status: result.ok ? 'up' : 'down', latencyMs: Date.now() - started, ...(result.detail ? { detail: result.detail } : {}) }];
      } catch (error) {
        return [c.name, { status: 'down', latencyMs: Date.now() - started, detail: (error as Error).message }];
      } finally {
        if (timer) clearTimeout(timer);
      }
    }),
  );
  return Object.fromEntries(entries);
}

/**
 * `/health/live`: the process is up (restart it if not).
 * `/health/ready`: it can serve now (PostgreSQL, Kafka, not shutting down); 503 otherwise.
 * `/health`: both, the readiness status code.
 */
@ApiTags('health')
@Public('liveness and readiness for orchestrators and load balancers')
@Controller('health')
export class HealthController {
  constructor(@Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process runs' })
  @ApiOkResponse({ description: 'alive' })
  live(): { status: 'ok'; service: string; uptimeSeconds: number } {
    return { status: 'ok', service: this.runtime.name, uptimeSeconds: Math.round((Date.now() - this.runtime.startedAt.getTime()) / 1000) };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: PostgreSQL and messaging answer and the service is not draining' })
  @ApiOkResponse({ description: 'ready' })
  @ApiServiceUnavailableResponse({ description: 'not ready; `checks` says which dependency is down' })
  async ready(@Res({ passthrough: true }) res: Response): Promise<HealthReport> {
    return this.report(res);
  }

  @Get()
  @ApiOperation({ summary: 'Liveness and readiness together' })
  async health(@Res({ passthrough: true }) res: Response): Promise<HealthReport> {
    return this.report(res);
  }

  private async report(res: Response): Promise<HealthReport> {
    const checks = await runChecks(this.runtime.readinessChecks);
    const draining = this.runtime.draining;
    const ready = !draining && Object.values(checks).every((c) => c.status === 'up');
    res.status(ready ? 200 : 503);
    return {
      status: ready ? 'ok' : 'error',
      service: this.runtime.name,
      version: this.runtime.version,
      live: true,
      ready,
      checks: draining ? { ...checks, shutdown: { status: 'down', latencyMs: 0, detail: 'draining for shutdown' } } : checks,
    };
  }
}
