// The gateway composes the services' subgraphs at run time (IntrospectAndCompose, apps/gateway/src/supergraph.ts):
// a subgraph whose SDL does not compose with the others takes the whole GraphQL API down. This test reads each
// service's subgraph SDL as the gateway does (`{ _service { sdl } }`, tools/subgraph-sdl.ts, one process per
// service as in production) and composes them with Apollo's composition (@apollo/gateway's LocalCompose runs
// @apollo/composition's composeServices and throws on any composition error).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LocalCompose } from '@apollo/gateway';
import { parse } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..');
const SUBGRAPHS = ['identity', 'ledger', 'provenance', 'finance', 'audit'];

async function sdlOf(service: string): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['-r', '@swc-node/register', join('tools', 'subgraph-sdl.ts'), service], {
    cwd: ROOT,
    env: { ...process.env, SWC_NODE_PROJECT: join(ROOT, 'tsconfig.base.json') },
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

export function compose(sdl: ReadonlyMap<string, string>): Promise<string> {
  const manager = new LocalCompose({ localServiceList: [...sdl].map(([name, text]) => ({ name, url: `http://${name}/graphql`, typeDefs: parse(text) })) });
  return manager.initialize({ update: () => undefined, healthCheck: async () => undefined, getDataSource: () => undefined as never }).then((r) => r.supergraphSdl);
}

describe('the supergraph the gateway composes', () => {
  const sdl = new Map<string, string>();
  let supergraph = '';

  beforeAll(async () => {
    const texts = await Promise.all(SUBGRAPHS.map(sdlOf));
    SUBGRAPHS.forEach((name, i) => sdl.set(name, texts[i]));
    supergraph = await compose(sdl);
  }, 120_000);

  it('composes every subgraph (Apollo Federation 2) without errors', () => {
    for (const name of SUBGRAPHS) expect(supergraph).toContain(`join__graph(name: "${name}"`);
  });

  it('serves a lease’s telemetry from provenance, asked with the lease’s device and item', () => {
    expect(supergraph).toMatch(/assetTelemetry\(deviceId: String!, item: String\): ProvenanceAssetTelemetry! @join__field\(graph: PROVENANCE\)/);
    const lease = /type FinanceLeasedAsset\n[^{]*\{([^}]*)\}/.exec(supergraph);
    expect(lease?.[1]).toMatch(/deviceId: String!/);
    expect(lease?.[1]).toMatch(/item: String!/);
  });

  it('composes too when every service is built in one process (npm start), where types leak between subgraphs', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['-r', '@swc-node/register', join('tools', 'subgraph-sdl.ts'), 'all'], {
      cwd: ROOT,
      env: { ...process.env, SWC_NODE_PROJECT: join(ROOT, 'tsconfig.base.json') },
      maxBuffer: 16 * 1024 * 1024,
    });
    const together = new Map(Object.entries(JSON.parse(stdout) as Record<string, string>));
    expect([...together.keys()].sort()).toEqual([...SUBGRAPHS].sort());
    const composed = await compose(together);
    for (const name of SUBGRAPHS) expect(composed).toContain(`join__graph(name: "${name}"`);
  }, 120_000);

  it('fails when a subgraph breaks composition (a second subgraph claiming a field provenance resolves, unshared)', async () => {
    const broken = new Map(sdl);
    broken.set('finance', `${sdl.get('finance')!}\ntype ProvenanceTelemetryLocation { eventId: String! }\n`);
    await expect(compose(broken)).rejects.toThrow(/couldn't be composed/);
  });
});
