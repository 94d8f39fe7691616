import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// Built by tools/build.js into dist/apps/dashboard, which the gateway serves at `/` (docs/dashboard.md).
// No React plugin: a production build needs only esbuild's automatic JSX (the plugin adds dev-server fast refresh).
const root = resolve(import.meta.dirname, '../..');
const base = JSON.parse(readFileSync(resolve(root, 'tsconfig.base.json'), 'utf8')) as { compilerOptions: { paths: Record<string, string[]> } };
const alias = Object.fromEntries(Object.entries(base.compilerOptions.paths).map(([name, [target]]) => [name, resolve(root, target)]));

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  logLevel: 'warn',
  resolve: { alias },
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: resolve(root, 'dist/apps/dashboard'),
    emptyOutDir: true,
    // The gateway finds the build by it (apps/gateway/src/dashboard.ts).
    manifest: true,
    target: 'es2022',
    sourcemap: true,
    // No inline polyfill: the CSP allows only the page's own script files.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
});
