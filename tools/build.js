#!/usr/bin/env node
// Transpiles every app and library with SWC into dist/, mirroring the source
// tree, so services run as plain `node dist/apps/<service>/src/main.js`, and
// bundles the web dashboard (apps/dashboard) with Vite into dist/apps/dashboard,
// which the gateway serves at `/`. Type checking is `npm run typecheck` (tsc);
// this step only emits JavaScript.
'use strict';
const { spawnSync } = require('node:child_process');
const { transformFileSync } = require('@swc/core');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'dist');
const tsconfig = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.base.json'), 'utf8'));

const swcOptions = {
  swcrc: false,
  sourceMaps: true,
  module: { type: 'commonjs', strict: true },
  jsc: {
    target: 'es2022',
    baseUrl: root,
    paths: tsconfig.compilerOptions.paths,
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    keepClassNames: true,
  },
};

function* walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else yield full;
  }
}

function isSource(file) {
  // Tests and their helpers (`test/` folders, `*-e2e` apps) never ship; the dashboard is Vite's (below).
  if (/\.(spec|int-spec|e2e-spec)\.ts$/.test(file) || /[\\/](test|[a-z-]+-e2e)[\\/]/.test(file)) return false;
  return file.endsWith('.ts') && !file.endsWith('.d.ts') && !file.includes(`${path.sep}apps${path.sep}dashboard${path.sep}`);
}

function build() {
  const started = Date.now();
  let compiled = 0;
  let copied = 0;
  for (const top of ['apps', 'libs']) {
    const dir = path.join(root, top);
    if (!fs.existsSync(dir)) continue;
    for (const file of walk(dir)) {
      const rel = path.relative(root, file);
      const target = path.join(out, rel);
      if (isSource(file)) {
        const jsTarget = target.replace(/\.ts$/, '.js');
        if (upToDate(file, jsTarget)) continue;
        const { code, map } = transformFileSync(file, { ...swcOptions, filename: file, sourceFileName: path.relative(path.dirname(jsTarget), file) });
        fs.mkdirSync(path.dirname(jsTarget), { recursive: true });
        fs.writeFileSync(jsTarget, `${code}\n//# sourceMappingURL=${path.basename(jsTarget)}.map\n`);
        if (map) fs.writeFileSync(`${jsTarget}.map`, map);
        compiled++;
      } else if (/[\\/]migrations[\\/].+\.sql$/.test(rel) || /\.(json|graphql)$/.test(rel) && rel.includes(`${path.sep}src${path.sep}`)) {
        if (upToDate(file, target)) continue;
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.copyFileSync(file, target);
        copied++;
      }
    }
  }
  const dashboard = buildDashboard();
  return { compiled, copied, dashboard, ms: Date.now() - started };
}

/** What the dashboard bundle is made of: its own sources and the browser-safe libraries it imports. */
const DASHBOARD_INPUTS = ['apps/dashboard', 'libs/sdk/src', 'libs/protocol/src', 'libs/contracts/src', 'tsconfig.base.json', 'package-lock.json'];

function newestMtime(relative) {
  const full = path.join(root, relative);
  if (!fs.existsSync(full)) return 0;
  if (!fs.statSync(full).isDirectory()) return fs.statSync(full).mtimeMs;
  let newest = 0;
  for (const file of walk(full)) if (!/\.(spec|int-spec|e2e-spec)\.tsx?$/.test(file)) newest = Math.max(newest, fs.statSync(file).mtimeMs);
  return newest;
}

/** Vite build of apps/dashboard when a source is newer than the last build's manifest; true when it ran. */
function buildDashboard() {
  if (!fs.existsSync(path.join(root, 'apps/dashboard/vite.config.mts'))) return false;
  let builtAt = -1;
  try {
    builtAt = fs.statSync(path.join(out, 'apps/dashboard/.vite/manifest.json')).mtimeMs;
  } catch {
    // never built
  }
  if (builtAt >= Math.max(...DASHBOARD_INPUTS.map(newestMtime))) return false;
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'apps/dashboard/vite.config.mts'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`build: the dashboard's Vite build failed (exit ${r.status ?? r.signal})`);
  return true;
}

function upToDate(source, target) {
  try {
    return fs.statSync(target).mtimeMs >= fs.statSync(source).mtimeMs;
  } catch {
    return false;
  }
}

module.exports = { build };

if (require.main === module) {
  const clean = process.argv.includes('--clean');
  if (clean) fs.rmSync(out, { recursive: true, force: true });
  const { compiled, copied, dashboard, ms } = build();
  process.stdout.write(`build: ${compiled} files compiled, ${copied} copied${dashboard ? ', the dashboard bundled' : ''} into dist/ in ${ms} ms\n`);
}
