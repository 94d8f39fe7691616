// The nodes the audit service verifies and the trust it verifies them against (docs/audit.md, Verification).
import { decodeEnvelope, fromBase64, fromBase64Url } from '@alliance/protocol';
// The SDK's verifiers are the open reference code of docs/protocol.md §9 and §14 ("do not reimplement").
 
import { AllianceApiError, AllianceClient, type ChainTrust, trustFromChainConfig, trustFromGenesis, verifyBlock } from '@alliance/sdk';
import { AllianceError } from '@alliance/shared/util-errors';

/** The regulator's own node's name in every verification route (`?node=observer`). */
export const OBSERVER = 'observer';

export interface AuditNode {
  /** `observer`, or the organization id of a member's node. */
  readonly name: string;
  /** null for the observer (the regulator's own node). */
  readonly organizationId: string | null;
  readonly url: string;
}

const ORG_ID = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * Parses AUDIT_MEMBER_NODES: `org1=http://…,org2=http://…` (spaces around items allowed), each
 * organization once, never `observer`. Throws an Error naming the variable and the bad item, so a
 * bad configuration stops the service at start-up.
 */
export function parseMemberNodes(value: string | undefined): AuditNode[] {
  if (value === undefined || value.trim() === '') return [];
  const nodes: AuditNode[] = [];
  for (const raw of value.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    const organizationId = eq < 0 ? '' : item.slice(0, eq).trim();
    const url = eq < 0 ? '' : item.slice(eq + 1).trim().replace(/\/+$/, '');
    if (!ORG_ID.test(organizationId)) throw new Error(`AUDIT_MEMBER_NODES: "${item}" is not <organizationId>=<http(s) URL> (organization ids are lower-case letters, digits and dashes)`);
    if (organizationId === OBSERVER) throw new Error(`AUDIT_MEMBER_NODES: "${OBSERVER}" names the regulator's own node (AUDIT_LEDGER_URL), not a member`);
    let parsed: URL | null = null;
    try {
      parsed = new URL(url);
    } catch {
      parsed = null;
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol)) throw new Error(`AUDIT_MEMBER_NODES: the node of ${organizationId} ("${url}") is not an http:// or https:// URL`);
    if (nodes.some((n) => n.organizationId === organizationId)) throw new Error(`AUDIT_MEMBER_NODES: ${organizationId} is listed twice`);
    nodes.push({ name: organizationId, organizationId, url });
  }
  return nodes;
}

/** The observer and the members, by name. */
export class NodeDirectory {
  constructor(
    private readonly observerUrl: string | undefined,
    readonly members: readonly AuditNode[],
  ) {}

  get observer(): AuditNode {
    if (!this.observerUrl) throw new AllianceError('AUDIT.NOT_CONFIGURED', 'unavailable', 'the audit service has no observer node to verify against (AUDIT_LEDGER_URL)');
    return { name: OBSERVER, organizationId: null, url: this.observerUrl.replace(/\/+$/, '') };
  }

  /** Every node: the observer first (when configured), then the members in configuration order. */
  all(): AuditNode[] {
    return [...(this.observerUrl ? [this.observer] : []), ...this.members];
  }

  /** The node named by a `node` parameter (default the observer); AUDIT.INVALID_QUERY when missing, AUDIT.NOT_FOUND when unknown. */
  byName(name: string | undefined | null, required = false): AuditNode {
    if (name === undefined || name === null || name === '') {
      if (required) throw new AllianceError('AUDIT.INVALID_QUERY', 'invalid', `node is required: "${OBSERVER}" or a member's organization id (${this.members.map((m) => m.name).join(', ') || 'none configured'})`);
      return this.observer;
    }
    if (name === OBSERVER) return this.observer;
    const member = this.members.find((m) => m.name === name);
    if (!member) throw new AllianceError('AUDIT.NOT_FOUND', 'not-found', `no node "${name}": the audit service verifies "${OBSERVER}" and the members of AUDIT_MEMBER_NODES (${this.members.map((m) => m.name).join(', ') || 'none configured'})`);
    return member;
  }
}

/** A client of one node's public ledger API (blocks, checkpoints, proofs and state need no token). */
export function clientOf(node: AuditNode, timeoutMs = 30_000): AllianceClient {
  return new AllianceClient({ baseUrl: node.url, timeoutMs });
}

/** A transport failure or refusal of a node, as the audit's error. */
export function unavailable(node: AuditNode, error: unknown): AllianceError {
  if (error instanceof AllianceError) return error;
  const detail = error instanceof AllianceApiError ? `${error.code}: ${error.message}` : (error as Error)?.message ?? String(error);
  return new AllianceError('AUDIT.UPSTREAM_UNAVAILABLE', 'unavailable', `the node ${node.name} (${node.url}) could not be read: ${detail}`, { cause: error });
}

function bytesOf(text: string): Uint8Array {
  try {
    return fromBase64(text);
  } catch {
    return fromBase64Url(text);
  }
}

const CONFIG_KEY = 'config/chain';

/**
 * What the audit verifies every node against: the chain's genesis, read once from block 0 of the
 * observer — the regulator's own node, which it runs and trusts — and pinned for the life of the
 * process. Block 0 must hold exactly that genesis envelope (its leaf is block 0's dataRoot) and be
 * certified by the members it names, and its chain must be CHAIN_ID. `verifyChain` gets it as the
 * pinned trust, so a member's node is checked against the observer's genesis, never its own, and
 * follows configuration changes from there itself.
 *
 * One item (a receipt, a checkpoint) is verified against the members in force: those of the genesis
 * while the chain is at configuration 0, else those of the observer's committed `config/chain` state
 * (which the observer's own verification run replays and checks); a receipt of a block under an
 * earlier, superseded configuration is reported as not verifiable rather than checked against
 * members that did not sign it.
 */
export class TrustAnchor {
  private genesisTrust: Promise<ChainTrust> | null = null;

  constructor(
    private readonly nodes: NodeDirectory,
    private readonly chainId: string,
  ) {}

  genesis(): Promise<ChainTrust> {
    if (!this.genesisTrust) {
      this.genesisTrust = this.readGenesis();
      // A failed read (observer down) is retried by the next caller.
      this.genesisTrust.catch(() => (this.genesisTrust = null));
    }
    return this.genesisTrust;
  }

  private async readGenesis(): Promise<ChainTrust> {
    const observer = this.nodes.observer;
    const client = clientOf(observer);
    let block;
    let data;
    try {
      [block, data] = await Promise.all([client.block(0), client.blockTransactions(0)]);
    } catch (error) {
      throw unavailable(observer, error);
    }
    const first = data.transactions[0];
    if (data.transactions.length !== 1 || typeof first?.envelope !== 'string') {
      throw new AllianceError('AUDIT.TRUST_ANCHOR_INVALID', 'unavailable', `block 0 of the observer node holds ${data.transactions.length} transactions, not one genesis envelope`);
    }
    let trust: ChainTrust;
    try {
      trust = trustFromGenesis(decodeEnvelope(bytesOf(first.envelope)));
    } catch (error) {
      throw new AllianceError('AUDIT.TRUST_ANCHOR_INVALID', 'unavailable', `block 0 of the observer node holds no valid genesis: ${(error as Error).message}`, { cause: error });
    }
    if (trust.chainId !== this.chainId) throw new AllianceError('AUDIT.TRUST_ANCHOR_INVALID', 'unavailable', `the observer node's genesis is of chain ${String(trust.chainId)}, the audit service audits CHAIN_ID ${this.chainId}`);
    if (trust.genesisLeafHash !== block.header.dataRoot) throw new AllianceError('AUDIT.TRUST_ANCHOR_INVALID', 'unavailable', "the observer node's genesis envelope is not block 0's data root");
    const certified = verifyBlock({ header: block.header, signatures: block.signatures }, { trust });
    if (!certified.ok) throw new AllianceError('AUDIT.TRUST_ANCHOR_INVALID', 'unavailable', `block 0 of the observer node is not certified by its genesis members: ${certified.detail}`);
    return trust;
  }

  /** The members in force now (genesis, or the observer's committed chain configuration). */
  async current(): Promise<ChainTrust> {
    const genesis = await this.genesis();
    const observer = this.nodes.observer;
    let page;
    try {
      // The state pages in byte order of keys strictly after `after`: the key right after "config/chai" is "config/chain" unless a key sorts between.
      page = await clientOf(observer).statePage('config/chai', 20);
    } catch (error) {
      throw unavailable(observer, error);
    }
    const row = page.items.find((r) => r.key === CONFIG_KEY);
    if (!row || row.value === null) return genesis;
    let config: unknown;
    try {
      config = JSON.parse(new TextDecoder().decode(bytesOf(row.value)));
    } catch (error) {
      throw new AllianceError('AUDIT.TRUST_ANCHOR_INVALID', 'unavailable', `the observer's ${CONFIG_KEY} state is not JSON`, { cause: error });
    }
    const sequence = (config as { sequence?: unknown } | null)?.sequence;
    if (sequence === 0 || sequence === undefined) return genesis;
    const trust = trustFromChainConfig(config);
    if (trust.chainId !== undefined && trust.chainId !== genesis.chainId) throw new AllianceError('AUDIT.TRUST_ANCHOR_INVALID', 'unavailable', `the observer's ${CONFIG_KEY} names chain ${trust.chainId}`);
    return { ...trust, chainId: genesis.chainId };
  }

  /** The members in force at a block's configuration sequence, or null when that configuration was superseded. */
  async at(configSequence: number): Promise<ChainTrust | null> {
    const genesis = await this.genesis();
    if (configSequence === 0) return genesis;
    const current = await this.current();
    return current.sequence === configSequence ? current : null;
  }
}
