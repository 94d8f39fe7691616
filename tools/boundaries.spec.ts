import { resolve } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// Proves the module boundaries are errors, not warnings: each snippet is
// linted as if it lived at the given path, with the repository's own config.
const root = resolve(__dirname, '..');
const eslint = new ESLint({ cwd: root });

async function boundaryErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: resolve(root, file) });
  return result.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => `${m.severity}:${m.message}`);
}

describe('module boundaries', () => {
  it('forbid framework imports in contracts (domain/protocol-level code)', async () => {
    const errors = await boundaryErrors('libs/contracts/src/x.ts', "import { Injectable } from '@nestjs/common';\nexport const x = Injectable;\n");
    expect(errors.length).toBe(1);
    expect(errors[0]).toMatch(/^2:/); // severity 2 = error
  });

  it('forbid a utility from depending on data access', async () => {
    const errors = await boundaryErrors('libs/shared/util-config/src/x.ts', "import { createPool } from '@alliance/shared/data-access-postgres';\nexport const x = createPool;\n");
    expect(errors.length).toBe(1);
    expect(errors[0]).toMatch(/^2:A project tagged with "type:util" can only depend on libs tagged with/);
  });

  it('forbid one service from importing another service', async () => {
    const errors = await boundaryErrors('apps/ledger/src/x.ts', "import { gatewayService } from '../../gateway/src/app.module';\nexport const x = gatewayService;\n");
    expect(errors.length).toBe(1);
    expect(errors[0]).toMatch(/^2:/);
  });

  it('allow an app to use shared libraries', async () => {
    const errors = await boundaryErrors('apps/ledger/src/x.ts', "import { loadConfig } from '@alliance/shared/util-config';\nexport const x = loadConfig;\n");
    expect(errors).toEqual([]);
  });
});
