// A chain for the node's integration tests: fresh member keys, its configuration and signed genesis, and the
// options of org1's member node on it.
import { canonicalBytes, type Envelope, formatTimestamp, generateKeyPair, keyId, nodeVerify, signTransaction, toHex } from '@alliance/protocol';
import type { ChainConfig, ContractRegistry, JsonValue, OrderingLog } from '@alliance/ledger/domain';
import type { Pool } from '@alliance/shared/data-access-postgres';
import type { LedgerNodeOptions } from '../src/ledger-node';
import type { VerifierPool } from '../src/verifier-pool';

export function chainFixture(chainId: string, { organizations = ['org1', 'org2'], batchTimeoutMs = 50 } = {}) {
  const orgs = organizations.map((organizationId) => ({ organizationId, key: generateKeyPair('ed25519') }));
  const config: ChainConfig = {
    chainId,
    sequence: 0,
    members: orgs.map((o) => ({
      organizationId: o.organizationId,
      role: 'manufacturer',
      nodeKey: { algorithm: 'ed25519', publicKey: toHex(o.key.publicKey) },
      keys: [{ keyId: keyId('ed25519', o.key.publicKey), algorithm: 'ed25519', publicKey: toHex(o.key.publicKey) }],
    })),
    policies: { certification: { type: 'majority' }, configuration: { type: 'majority' } },
    cutting: { maxTransactions: 10, maxBytes: 1_048_576, batchTimeoutMs },
    timestampWindowMs: 300_000,
  };
  /** `type` with `payload`, created and signed by org1 (or `creator`). */
  const signed = (type: string, payload: Record<string, unknown>, nonce: string, creator = orgs[0]): Envelope =>
    signTransaction(
      { chainId, type, creator: { organizationId: creator.organizationId, keyId: keyId('ed25519', creator.key.publicKey) }, nonce, timestamp: formatTimestamp(Date.now()), payload: payload as never },
      { algorithm: 'ed25519', privateKey: creator.key.privateKey },
    );
  const genesis = canonicalBytes(signed('config.genesis', { config }, 'genesis') as unknown as JsonValue);
  /** org1's member node on this chain, its database `pool`, ordering on `log` (`orderingSource` 'solo' unless given). */
  const nodeOptions = (pool: Pool, log: OrderingLog, registry: ContractRegistry, verifierPool: VerifierPool, more: Partial<LedgerNodeOptions> = {}): LedgerNodeOptions => ({
    chainId,
    organizationId: orgs[0].organizationId,
    role: 'member',
    nodeKey: { algorithm: 'ed25519', publicKey: orgs[0].key.publicKey, privateKey: orgs[0].key.privateKey },
    genesis,
    pool,
    log,
    orderingSource: 'solo',
    registry,
    verifier: nodeVerify,
    verifierPool,
    ...more,
  });
  return { chainId, orgs, config, signed, genesis, nodeOptions };
}
