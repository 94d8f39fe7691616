import { join } from 'node:path';
import { createContext, runInContext } from 'node:vm';
import { build } from 'vite';
import { beforeAll, describe, expect, it } from 'vitest';
import { vectors } from './test/vectors';

/**
 * Dashboards and browser integrations load the SDK: bundle its entry point as
 * a browser bundler would, and run it where there is no process, Buffer or
 * require — only fetch-free browser globals (TextEncoder, WebCrypto).
 */
describe('@alliance/sdk in a browser-like context', () => {
  let bundle = '';
  beforeAll(async () => {
    const result = await build({
      configFile: false,
      logLevel: 'silent',
      resolve: { alias: { '@alliance/protocol': join(__dirname, '../../protocol/src/index.ts') } },
      build: { lib: { entry: join(__dirname, 'index.ts'), formats: ['iife'], name: 'AllianceSdk' }, write: false, minify: false },
    });
    const outputs = Array.isArray(result) ? result : [result];
    for (const o of outputs) if ('output' in o) bundle += o.output.map((chunk) => ('code' in chunk ? chunk.code : '')).join('\n');
  }, 60_000);

  it('bundles without Node built-ins', () => {
    expect(bundle.length).toBeGreaterThan(1000);
    expect(bundle).not.toMatch(/require\(["']node:|from ["']node:/);
  });

  it('verifies a receipt, signs (a transaction, a sign-in challenge), and seals and opens a key file with WebCrypto and the portable scrypt', async () => {
    const context = createContext({ TextEncoder, TextDecoder, crypto: globalThis.crypto, setTimeout, clearTimeout });
    runInContext(bundle, context);
    context['input'] = JSON.stringify({ receipt: vectors.receiptCanonical, members: vectors.receipt.members });
    const out = (await runInContext(
      `(async () => {
        const S = AllianceSdk;
        const { receipt, members } = JSON.parse(input);
        const verdict = S.verifyReceipt(receipt, { members });
        const key = S.generateKey({ organizationId: 'org1' });
        const envelope = S.createEnvelope(key, { chainId: 'c1', type: 'ledger.anchor', payload: { n: 1 } });
        const file = await S.encryptKey(key, 'pw', { scrypt: { n: 1024, r: 8, p: 1 } });
        const opened = await S.readKeyFile(JSON.stringify(file), 'pw');
        let wrong = '';
        try { await S.readKeyFile(file, 'nope'); } catch (e) { wrong = e.code; }
        const challenge = { type: S.AUTH_CHALLENGE_TYPE, chainId: 'c1', issuer: 'id', organizationId: 'org1', keyId: key.keyId, challengeId: 'ch1', issuedAt: '2026-12-02T08:00:00.000Z', expiresAt: '2026-12-02T08:02:00.000Z' };
        const signedIn = S.signChallenge({ challengeId: 'ch1', domain: 'alliance/auth-challenge/v1', expiresAt: challenge.expiresAt, challenge }, key);
        return JSON.stringify({ process: typeof process, ok: verdict.ok, keyId: envelope.signature.keyId === key.keyId, same: opened.keyId === key.keyId, wrong, challenge: signedIn.challengeId, signature: signedIn.signature.length });
      })()`,
      context,
    )) as string;
    expect(JSON.parse(out)).toEqual({ process: 'undefined', ok: true, keyId: true, same: true, wrong: 'SDK.WRONG_PASSPHRASE', challenge: 'ch1', signature: 86 });
  });
});
