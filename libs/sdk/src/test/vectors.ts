import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConsortiumMember, Receipt } from '@alliance/protocol';

/**
 * docs/protocol.md §10 worked example (libs/protocol/test-vectors), read from
 * the file rather than imported: it belongs to the protocol project, and
 * projects meet only through their entry points.
 */
export interface WorkedExample {
  readonly keys: {
    readonly creator: { readonly privateKey: string; readonly publicKey: string; readonly keyId: string };
    readonly members: ReadonlyArray<ConsortiumMember & { readonly privateKey: string; readonly keyId: string }>;
  };
  readonly checkpoint: string;
  readonly consistency: { readonly fromSize: number; readonly toSize: number; readonly fromRoot: string; readonly toRoot: string; readonly proof: string[] };
  readonly receipt: Receipt;
  readonly receiptCanonical: string;
}

export const vectors: WorkedExample = JSON.parse(readFileSync(resolve(__dirname, '../../../protocol/test-vectors/worked-example.json'), 'utf8')) as WorkedExample;
