import type * as NodeCrypto from 'node:crypto';

/**
 * node:crypto when the library runs in Node, else null (a browser).
 *
 * Obtained at run time through `process.getBuiltinModule` (Node ≥ 20.16)
 * rather than imported: the library has one entry point that browsers also
 * load, and a static `import 'node:crypto'` would break their bundles. Only
 * hot paths use it (`nodeVerify`, `sha256`), each with the same result as the
 * portable code, cross-tested.
 */
export type NodeCryptoModule = typeof NodeCrypto;

let loaded: NodeCryptoModule | null | undefined;

export function nodeCrypto(): NodeCryptoModule | null {
  if (loaded === undefined) {
    const processLike = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const load = processLike?.getBuiltinModule;
    loaded = typeof load === 'function' ? ((load.call(processLike, 'node:crypto') as NodeCryptoModule | undefined) ?? null) : null;
  }
  return loaded;
}
