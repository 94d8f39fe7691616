import type { ConsortiumMember } from '@alliance/sdk';

/** GraphQL `identityOrganizations` fields the Network page reads. */
export interface Organization {
  readonly organizationId: string;
  readonly role: string;
  readonly status: string;
  readonly nodeKey: { readonly algorithm: string; readonly publicKey: string; readonly keyId: string } | null;
}

/** GraphQL `LedgerBlock` fields the Network page reads. */
export interface BlockSummary {
  readonly blockNumber: number;
  readonly headerHash: string;
  readonly timestamp: string;
  readonly transactionCount: number;
  readonly certified: boolean;
  readonly signedBy: readonly string[];
}

export interface MemberRow {
  readonly organizationId: string;
  readonly role: string;
  readonly status: string;
  /** The newest block of the window its node signed (a node signs only what it committed); null: none, or no node. */
  readonly nodeHead: number | null;
  /** Whether that block is certified; null without a head. */
  readonly certified: boolean | null;
}

/** The members' rows: node heads as the signatures on the served blocks show them. */
export function memberRows(organizations: readonly Organization[], blocks: readonly BlockSummary[]): MemberRow[] {
  return organizations.map((o) => {
    let head: BlockSummary | undefined;
    if (o.nodeKey) for (const b of blocks) if (b.signedBy.includes(o.organizationId) && (!head || b.blockNumber > head.blockNumber)) head = b;
    return { organizationId: o.organizationId, role: o.role, status: o.status, nodeHead: head ? head.blockNumber : null, certified: head ? head.certified : null };
  });
}

/** Adds or updates a block in a newest-first list that keeps at most `max` blocks. */
export function mergeBlock<B extends { readonly blockNumber: number }>(list: readonly B[], block: B, max = 50): B[] {
  const others = list.filter((b) => b.blockNumber !== block.blockNumber);
  return [...others, block].sort((a, b) => b.blockNumber - a.blockNumber).slice(0, max);
}

/**
 * The members a receipt of block n is checked against: the organizations the
 * identity service lists as members with a node key after block n, so a
 * receipt must carry their signatures, not keys of its own choosing.
 */
export function pinnedMembers(organizations: readonly Organization[]): ConsortiumMember[] {
  return organizations.flatMap((o) =>
    o.status === 'member' && o.nodeKey ? [{ organizationId: o.organizationId, algorithm: o.nodeKey.algorithm as ConsortiumMember['algorithm'], publicKey: o.nodeKey.publicKey }] : [],
  );
}
