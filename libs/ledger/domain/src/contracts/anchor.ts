import type { ContractHandler, JsonValue } from './types';

const HASH = /^[0-9a-f]{64}$/;
const MAX_METADATA_BYTES = 4096;

/**
 * `ledger.anchor`: commit an opaque SHA-256 hash with small metadata, e.g. a
 * document or an off-chain event. One anchor per hash: the first wins.
 * Payload: `{ "hash": hex64, "metadata"?: object }`.
 */
export const anchorContract: ContractHandler = {
  type: 'ledger.anchor',
  configuration: false,
  execute(ctx) {
    const payload = ctx.transaction.payload as Record<string, JsonValue>;
    const keys = Object.keys(payload);
    if (keys.some((k) => k !== 'hash' && k !== 'metadata')) return reject('LEDGER.ANCHOR_INVALID', `unexpected payload field(s): ${keys.filter((k) => k !== 'hash' && k !== 'metadata').join(', ')}`);
    const hash = payload['hash'];
    if (typeof hash !== 'string' || !HASH.test(hash)) return reject('LEDGER.ANCHOR_INVALID', 'payload.hash must be 64 lower-case hex digits');
    const metadata = payload['metadata'] ?? null;
    if (metadata !== null && (typeof metadata !== 'object' || Array.isArray(metadata))) return reject('LEDGER.ANCHOR_INVALID', 'payload.metadata must be an object');
    if (metadata !== null && new TextEncoder().encode(JSON.stringify(metadata)).length > MAX_METADATA_BYTES) return reject('LEDGER.ANCHOR_INVALID', `payload.metadata must be at most ${MAX_METADATA_BYTES} bytes`);
    const key = `anchor/${hash}`;
    if (ctx.state.get(key)) return reject('LEDGER.ANCHOR_EXISTS', `hash ${hash} is already anchored`);
    return {
      ok: true,
      writes: [
        {
          key,
          value: {
            transactionId: ctx.transactionId,
            organizationId: ctx.transaction.creator.organizationId,
            blockNumber: ctx.blockNumber,
            anchoredAt: ctx.blockTimestamp,
            metadata,
          },
        },
      ],
    };
  },
};

function reject(code: string, detail: string) {
  return { ok: false as const, code, detail };
}
