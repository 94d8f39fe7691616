#!/usr/bin/env node
// Transpiles every app and library with SWC into dist/, mirroring the source
// tree, so services run as plain `node dist/apps/<service>/src/main.js`.
// Type checking is `npm run typecheck` (tsc); this step only emits JavaScript.
'use strict';
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
  // Tests and their helpers (`test/` folders, `*-e2e` apps) never ship.
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
  return { compiled, copied, ms: Date.now() - started };
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
  const { compiled, copied, ms } = build();
  process.stdout.write(`build: ${compiled} files compiled, ${copied} copied into dist/ in ${ms} ms\n`);
}
