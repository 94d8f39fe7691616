#!/usr/bin/env node
'use strict';
// The `alliance` CLI, runnable from the repository without a build step
// (`npx alliance …`). It runs the compiled CLI from dist/, bringing dist/ up
// to date first with the repository's own build (tools/build.js: SWC,
// per-file mtime check, ~20 ms when nothing changed) — the same JavaScript the
// services run. Why not @swc-node/register: it transpiles on every start
// (~1 s per command here against ~0.2 s) and resolves path aliases its own
// way; it remains the fallback when the build itself fails (a broken file
// elsewhere in the repository must not take the CLI down).
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..', '..');
const compiled = path.join(root, 'dist', 'libs', 'sdk', 'src', 'cli.js');
const source = path.join(root, 'libs', 'sdk', 'src', 'cli.ts');
const debug = (message) => process.env.ALLIANCE_CLI_DEBUG && process.stderr.write(`alliance (launcher): ${message}\n`);

/** Several CLIs may start at once (scripts, tests): one builds, the others wait, so none reads a half-written file. */
function withBuildLock(fn) {
  const lock = path.join(root, 'dist', '.alliance-cli-build.lock');
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      try {
        // A lock older than a minute belongs to a process that died.
        if (Date.now() - fs.statSync(lock).mtimeMs > 60_000) fs.rmSync(lock, { recursive: true, force: true });
      } catch {
        /* gone already */
      }
      if (Date.now() > deadline) throw new Error('timed out waiting for another alliance CLI to finish building dist/');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

function loadCli() {
  try {
    const { build } = require(path.join(root, 'tools', 'build.js'));
    const result = withBuildLock(build);
    debug(`build: ${result.compiled} compiled in ${result.ms} ms`);
    return require(compiled);
  } catch (error) {
    debug(`build failed (${error && error.message}); transpiling on the fly with @swc-node/register`);
    process.env.SWC_NODE_PROJECT = process.env.SWC_NODE_PROJECT || path.join(root, 'tsconfig.base.json');
    require('@swc-node/register');
    return require(source);
  }
}

loadCli()
  .main(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`alliance: ${(error && error.stack) || error}\n`);
      process.exitCode = 3;
    },
  );
