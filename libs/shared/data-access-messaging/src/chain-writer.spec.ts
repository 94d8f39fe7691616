import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, keyId, toHex, transactionId } from '@alliance/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainWriter, readSigningKey } from './chain-writer';

const dir = mkdtempSync(join(tmpdir(), 'alliance-chain-writer-'));
const pair = generateKeyPair('ed25519');
const keyFile = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const good = keyFile('org1.json', { organizationId: 'org1', algorithm: 'ed25519', privateKey: toHex(pair.privateKey) });

describe('readSigningKey', () => {
  it('reads a plain key file of ORG_ID and names its key by key id', () => {
    const key = readSigningKey(good, 'org1', 'FINANCE_SIGNING_KEY_FILE');
    expect(key.keyId).toBe(keyId('ed25519', pair.publicKey));
    expect(key.organizationId).toBe('org1');
  });

  it('refuses a key of another organization, a bad algorithm or an encrypted key, naming the setting', () => {
    expect(() => readSigningKey(good, 'org2', 'FINANCE_SIGNING_KEY_FILE')).toThrow(/^FINANCE_SIGNING_KEY_FILE .* is a key of org1, not of ORG_ID org2$/);
    expect(() => readSigningKey(keyFile('rsa.json', { organizationId: 'org1', algorithm: 'rsa', privateKey: toHex(pair.privateKey) }), 'org1', 'PROVENANCE_SIGNING_KEY_FILE')).toThrow(/^PROVENANCE_SIGNING_KEY_FILE .*algorithm/);
    expect(() => readSigningKey(keyFile('enc.json', { organizationId: 'org1', algorithm: 'ed25519', ciphertext: 'x' }), 'org1', 'FINANCE_SIGNING_KEY_FILE')).toThrow(/64 hex digits/);
    expect(() => readSigningKey(join(dir, 'missing.json'), 'org1', 'FINANCE_SIGNING_KEY_FILE')).toThrow(/^cannot read FINANCE_SIGNING_KEY_FILE/);
  });
});

describe('ChainWriter', () => {
  let server: Server;
  let url: string;
  const seen: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.setHeader('content-type', 'application/json');
      if (req.url?.endsWith('/dup')) return res.end(JSON.stringify({ status: 'invalid', blockNumber: 4, code: 'FINANCE.ALREADY_ENCUMBERED', detail: 'taken' }));
      res.statusCode = 409;
      res.end(JSON.stringify({ code: 'LEDGER.DUPLICATE_TRANSACTION', detail: 'known' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('signs for its organization with the transaction id of what it signed', () => {
    const writer = new ChainWriter({ service: 'FINANCE', keyFileVariable: 'FINANCE_SIGNING_KEY_FILE', chainId: 'c1', key: readSigningKey(good, 'org1', 'FINANCE_SIGNING_KEY_FILE') });
    const signed = writer.sign('finance.receivable.issue', { receivableId: 'r-000001' });
    expect(signed.envelope.transaction.creator).toEqual({ organizationId: 'org1', keyId: keyId('ed25519', pair.publicKey) });
    expect(signed.transactionId).toBe(transactionId(signed.envelope.transaction));
    expect(writer.canWrite).toBe(false);
  });

  it('refuses a payload the protocol cannot sign (unsafe numbers, lone surrogates) as the caller’s error', () => {
    const writer = new ChainWriter({ service: 'PROVENANCE', keyFileVariable: 'PROVENANCE_SIGNING_KEY_FILE', chainId: 'c1', key: readSigningKey(good, 'org1', 'PROVENANCE_SIGNING_KEY_FILE') });
    for (const payload of [{ transferId: 't', n: 1.5 }, { transferId: 't', n: 2 ** 60 }, { transferId: 't', note: 'a\ud800b' }]) {
      expect(() => writer.sign('provenance.transfer.answer', payload)).toThrow(expect.objectContaining({ code: 'PROVENANCE.INVALID_PAYLOAD', kind: 'invalid', status: 400 }));
    }
  });

  it('names its errors with its service prefix and the key file setting', async () => {
    const unsigned = new ChainWriter({ service: 'FINANCE', keyFileVariable: 'FINANCE_SIGNING_KEY_FILE', chainId: 'c1' });
    expect(() => unsigned.sign('x.y', {})).toThrow(expect.objectContaining({ code: 'FINANCE.NOT_CONFIGURED', message: expect.stringMatching(/^FINANCE_SIGNING_KEY_FILE is not set: this finance service/) }));
    await expect(unsigned.status('ab')).rejects.toMatchObject({ code: 'FINANCE.NOT_CONFIGURED' });
    const closed = new ChainWriter({ service: 'PROVENANCE', keyFileVariable: 'PROVENANCE_SIGNING_KEY_FILE', chainId: 'c1', ledgerUrl: 'http://127.0.0.1:9', timeoutMs: 2_000 });
    await expect(closed.status('ab')).rejects.toMatchObject({ code: 'PROVENANCE.LEDGER_UNAVAILABLE' });
  });

  it('reads the ledger node: a duplicate submission, a contract refusal', async () => {
    const writer = new ChainWriter({ service: 'FINANCE', keyFileVariable: 'FINANCE_SIGNING_KEY_FILE', chainId: 'c1', ledgerUrl: url, key: readSigningKey(good, 'org1', 'FINANCE_SIGNING_KEY_FILE') });
    expect(await writer.submit(writer.sign('x.y', {}).bytes)).toBe('duplicate');
    expect(await writer.status('dup')).toEqual({ status: 'invalid', blockNumber: 4, code: 'FINANCE.ALREADY_ENCUMBERED', detail: 'taken' });
    expect(seen).toEqual(['POST /ledger/v1/transactions', 'GET /ledger/v1/transactions/dup']);
  });
});
