import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Envelope, formatTimestamp, fromHex, keyId, sha256, signTransaction, toHex, utf8 } from '@alliance/protocol';

/** Signs demo `ledger.anchor` transactions with an organization's demo key, as an ERP connector would. */
export function anchorEnvelopes(dataDir: string, organizationId: string, count: number, chainId = 'alliance-demo'): Envelope[] {
  const key = JSON.parse(readFileSync(join(dataDir, 'demo-keys', `${organizationId}.key.json`), 'utf8')) as { publicKey: string; privateKey: string };
  const publicKey = fromHex(key.publicKey);
  return Array.from({ length: count }, (_, i) =>
    signTransaction(
      {
        chainId,
        type: 'ledger.anchor',
        creator: { organizationId, keyId: keyId('ed25519', publicKey) },
        nonce: `e2e-${process.pid}-${Date.now()}-${i}`,
        timestamp: formatTimestamp(Date.now()),
        payload: { hash: toHex(sha256(utf8(`document ${process.pid} ${Date.now()} ${i} ${Math.random()}`))), metadata: { kind: 'invoice', index: i } },
      },
      { algorithm: 'ed25519', privateKey: fromHex(key.privateKey) },
    ),
  );
}
