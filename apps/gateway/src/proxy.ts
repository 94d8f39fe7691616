import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createProxyMiddleware } from 'http-proxy-middleware';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AllianceError } from '@alliance/shared/util-errors';
import { PROBLEM_CONTENT_TYPE, toProblem } from '@alliance/shared/feature-platform';
import type { Upstream } from './upstreams';

/**
 * REST is proxied by prefix, path unchanged: `/ledger/v1/...` goes to the
 * ledger service's `/ledger/v1/...`. Installed before body parsing so bodies
 * stream through untouched. The correlation id travels upstream.
 */
export function installRestProxy(app: NestExpressApplication, upstreams: readonly Upstream[], timeoutMs: number): void {
  for (const upstream of upstreams) {
    const prefix = `/${upstream.name}/v1`;
    app.use(
      prefix,
      createProxyMiddleware<IncomingMessage, ServerResponse>({
        target: upstream.url,
        // Express strips the mount path; put it back so upstream paths are unchanged.
        pathRewrite: (path) => `${prefix}${path === '/' ? '' : path}`,
        xfwd: true,
        proxyTimeout: timeoutMs,
        timeout: timeoutMs,
        on: {
          proxyReq: (proxyReq: ClientRequest, req: IncomingMessage) => {
            const id = (req as IncomingMessage & { id?: unknown }).id;
            if (typeof id === 'string') proxyReq.setHeader('X-Correlation-Id', id);
          },
          error: (error: Error, req: IncomingMessage, res: ServerResponse | Socket) => {
            if (!('setHeader' in res) || res.headersSent) {
              res.destroy();
              return;
            }
            const problem = toProblem(
              new AllianceError('GATEWAY.UPSTREAM_UNAVAILABLE', 'unavailable', `the ${upstream.name} service did not answer (${(error as NodeJS.ErrnoException).code ?? error.message})`),
              req.url,
              (req as IncomingMessage & { id?: unknown }).id as string | undefined,
            );
            res.statusCode = 502;
            res.setHeader('Content-Type', PROBLEM_CONTENT_TYPE);
            res.end(JSON.stringify({ ...problem, status: 502 }));
          },
        },
      }),
    );
  }
}
