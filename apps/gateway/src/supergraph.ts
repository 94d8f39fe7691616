import { IntrospectAndCompose, type SupergraphManager } from '@apollo/gateway';
import type { Upstream } from './upstreams';

type InitializeOptions = Parameters<SupergraphManager['initialize']>[0];
type InitializeResult = Awaited<ReturnType<SupergraphManager['initialize']>>;

/**
 * Composes the services' subgraphs (Apollo Federation 2) by introspection.
 * Services may start in any order, so the first composition retries until
 * every subgraph answers or `waitMs` passes; afterwards the supergraph is
 * re-composed every `pollMs`, picking up services that changed or came back.
 */
export class WaitingIntrospectAndCompose implements SupergraphManager {
  private stopPolling: (() => Promise<void>) | undefined;

  constructor(
    private readonly upstreams: readonly Upstream[],
    private readonly waitMs: number,
    private readonly pollMs = 15_000,
    private readonly log: (message: string) => void = () => undefined,
  ) {}

  async initialize(options: InitializeOptions): Promise<InitializeResult> {
    const deadline = Date.now() + this.waitMs;
    let attempt = 0;
    for (;;) {
      attempt++;
      const compose = new IntrospectAndCompose({
        subgraphs: this.upstreams.map((u) => ({ name: u.name, url: `${u.url}/graphql` })),
        pollIntervalInMs: this.pollMs,
      });
      try {
        const result = await compose.initialize(options);
        this.stopPolling = result.cleanup;
        return result;
      } catch (error) {
        if (Date.now() >= deadline) {
          throw new Error(`GraphQL composition failed after ${attempt} attempts: ${(error as Error).message}`, { cause: error });
        }
        this.log(`subgraphs not ready yet (${(error as Error).message.split('\n')[0]}); retrying`);
        await new Promise((r) => setTimeout(r, Math.min(2_000, 250 * attempt)));
      }
    }
  }

  async cleanup(): Promise<void> {
    await this.stopPolling?.();
  }
}
