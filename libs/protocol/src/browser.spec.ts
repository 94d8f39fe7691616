import { join } from 'node:path';
import { createContext, runInContext } from 'node:vm';
import { build } from 'vite';
import { beforeAll, describe, expect, it } from 'vitest';
import vectors from '../test-vectors/worked-example.json';

/**
 * The SDK and the dashboard load this library in browsers: bundle it the way a
 * browser bundler would and run it where there is no `process`, no `Buffer`
 * and no `require` — only what browsers have.
 */
describe('in a browser-like context', () => {
  let bundle = '';
  beforeAll(async () => {
    const result = await build({
      configFile: false,
      logLevel: 'silent',
      build: {
        lib: { entry: join(__dirname, 'index.ts'), formats: ['iife'], name: 'AllianceProtocol' },
        write: false,
        minify: false,
      },
    });
    const outputs = Array.isArray(result) ? result : [result];
    for (const o of outputs) if ('output' in o) bundle += o.output.map((chunk) => ('code' in chunk ? chunk.code : '')).join('\n');
  }, 60_000);

  it('bundles without Node built-ins', () => {
    expect(bundle).not.toMatch(/require\(["']node:|from ["']node:/);
  });

  it('verifies the worked-example receipt and signs with every algorithm; nodeVerify falls back to the portable verifier', () => {
    const context = createContext({ TextEncoder, TextDecoder, crypto: globalThis.crypto });
    runInContext(bundle, context);
    context['input'] = JSON.stringify({ receipt: vectors.receiptCanonical, members: vectors.receipt.members });
    const out = runInContext(
      `(() => {
        const P = AllianceProtocol;
        const { receipt, members } = JSON.parse(input);
        const verdict = P.verifyReceipt(receipt, { trustedMembers: members, trustedPolicy: { type: 'majority' } });
        const signed = P.SIGNATURE_ALGORITHMS.map((a) => {
          const k = P.generateKeyPair(a);
          const m = new TextEncoder().encode('browser');
          const s = P.sign(a, k.privateKey, 'alliance/transaction/v1', m);
          return P.verify(a, k.publicKey, 'alliance/transaction/v1', m, s) && P.nodeVerify(a, k.publicKey, 'alliance/transaction/v1', m, s);
        });
        return JSON.stringify({ process: typeof process, buffer: typeof Buffer, ok: verdict.ok, node: P.nodeCryptoAvailable(), signed });
      })()`,
      context,
    ) as string;
    expect(JSON.parse(out)).toEqual({ process: 'undefined', buffer: 'undefined', ok: true, node: false, signed: [true, true, true] });
  });
});
