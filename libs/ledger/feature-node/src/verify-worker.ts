import { parentPort } from 'node:worker_threads';
import { nodeVerify } from '@alliance/protocol';
import type { VerifyRequest, VerifyResponse } from './verifier-pool';

// One verification thread of a VerifierPool: the same `nodeVerify` the main
// thread would run, on another core.
parentPort?.on('message', (request: VerifyRequest) => {
  const results = new Uint8Array(request.items.length);
  for (let i = 0; i < request.items.length; i++) {
    const item = request.items[i];
    results[i] = nodeVerify(item.algorithm, item.publicKey, item.domain, item.message, item.signature) ? 1 : 0;
  }
  const response: VerifyResponse = { id: request.id, results };
  parentPort?.postMessage(response, [results.buffer]);
});
