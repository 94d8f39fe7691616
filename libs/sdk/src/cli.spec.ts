import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { validateEnvelope, validateSignedTelemetry, verifyEnvelope, verifyTelemetrySignature } from '@alliance/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vectors } from './test/vectors';
import { keyFileInfo } from './index';
import { FakeLedger } from './test/fake-ledger';

/**
 * The CLI as users run it: `node libs/sdk/bin/alliance.js …` in a child
 * process (the same file `npx alliance` runs), checked by exit code and output.
 */
const BIN = resolve(__dirname, '../bin/alliance.js');
const dir = mkdtempSync(join(tmpdir(), 'alliance-cli-'));
const file = (name: string) => join(dir, name);

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function alliance(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const copy = bytes.slice();
  copy[bit >> 3] ^= 1 << (bit & 7);
  return copy;
}

const ledger = new FakeLedger({ blocks: 5, blockData: false });
const MEMBERS = { members: vectors.keys.members.map((m) => ({ organizationId: m.organizationId, algorithm: 'ed25519', publicKey: m.publicKey })), policy: { type: 'majority' } };

beforeAll(async () => {
  writeFileSync(file('members.json'), JSON.stringify(MEMBERS));
  writeFileSync(file('genesis.json'), JSON.stringify(ledger.genesis));
  writeFileSync(file('receipt.json'), vectors.receiptCanonical);
  await ledger.start();
  // The first run may build dist/ (tools/build.js); later ones take ~0.2 s.
  await alliance(['--version']);
}, 180_000);

afterAll(async () => {
  await ledger.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('alliance CLI', () => {
  it('prints help for every command, exit 0; usage errors exit 2', async () => {
    for (const args of [['--help'], ['keygen', '--help'], ['sign', '--help'], ['device', 'sign', '--help'], ['submit', '--help'], ['receipt', '--help'], ['verify', '--help'], ['verify', 'receipt', '--help'], ['verify', 'block', '--help'], ['verify', 'checkpoint', '-h'], ['verify', 'chain', '--help']]) {
      const run = await alliance(args);
      expect(run.code, args.join(' ')).toBe(0);
      expect(run.stdout, args.join(' ')).toMatch(/usage: alliance/);
    }
    expect((await alliance([])).code).toBe(2);
    expect((await alliance(['frobnicate'])).code).toBe(2);
    expect((await alliance(['verify', 'everything'])).code).toBe(2);
    const missing = await alliance(['keygen', '--out', file('x.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--org is required/);
    expect((await alliance(['keygen', '--org', 'org1', '--out', file('x.json'), '--bogus'])).stderr).toMatch(/unknown option --bogus/);
    expect((await alliance(['verify', 'receipt', file('missing.json')])).code).toBe(2);
  }, 60_000);

  it('keygen writes an encrypted key file; sign opens it and prints a valid envelope; a wrong passphrase is a clear error', async () => {
    const env = { ALLIANCE_TEST_PASSPHRASE: 'correct horse battery staple' };
    const keygen = await alliance(['keygen', '--org', 'org1', '--algorithm', 'ecdsa-p256', '--out', file('org1.key.json'), '--passphrase-env', 'ALLIANCE_TEST_PASSPHRASE'], env);
    expect(keygen.code, keygen.stderr).toBe(0);
    const info = keyFileInfo(readFileSync(file('org1.key.json'), 'utf8'));
    expect(info).toMatchObject({ organizationId: 'org1', algorithm: 'ecdsa-p256', encrypted: true });
    expect(keygen.stdout).toContain(info.keyId);
    expect(keygen.stdout).toMatch(/publicKey\s+[0-9a-f]{66}/);
    expect(keygen.stderr).toMatch(/encrypted/);
    expect((await alliance(['keygen', '--org', 'org1', '--out', file('org1.key.json')])).code).toBe(2); // no overwrite without --force

    writeFileSync(file('payload.json'), JSON.stringify({ hash: 'ab'.repeat(32), metadata: { document: 'invoice' } }));
    const signArgs = ['sign', '--key', file('org1.key.json'), '--chain', 'alliance-demo', '--type', 'ledger.anchor', '--payload', `@${file('payload.json')}`, '--passphrase-env', 'ALLIANCE_TEST_PASSPHRASE'];
    const signed = await alliance(signArgs, env);
    expect(signed.code, signed.stderr).toBe(0);
    const envelope = validateEnvelope(JSON.parse(signed.stdout));
    expect(envelope.transaction).toMatchObject({ chainId: 'alliance-demo', type: 'ledger.anchor', creator: { organizationId: 'org1', keyId: info.keyId } });
    expect(verifyEnvelope(envelope, info.publicKey)).toBe(true);

    const wrong = await alliance(signArgs, { ALLIANCE_TEST_PASSPHRASE: 'Tr0ub4dor&3' });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/wrong passphrase/);
    const none = await alliance(signArgs.slice(0, -2));
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/encrypted: pass --passphrase-env/);

    const plain = await alliance(['keygen', '--org', 'org2', '--out', file('org2.key.json'), '--json']);
    expect(plain.code).toBe(0);
    expect(JSON.parse(plain.stdout)).toMatchObject({ organizationId: 'org2', algorithm: 'ed25519', encrypted: false });
    const inline = await alliance(['sign', '--key', file('org2.key.json'), '--chain', 'c1', '--type', 'ledger.anchor', '--payload', '{"n":1}', '--nonce', 'fixed-1', '--timestamp', '2026-11-25T20:00:00.000Z']);
    expect(inline.code, inline.stderr).toBe(0);
    expect(JSON.parse(inline.stdout).transaction).toMatchObject({ nonce: 'fixed-1', timestamp: '2026-11-25T20:00:00.000Z', payload: { n: 1 } });
    expect((await alliance(['sign', '--key', file('org2.key.json'), '--chain', 'c1', '--type', 'ledger.anchor', '--payload', '[1]'])).code).toBe(2);
  }, 60_000);

  it('device sign: a device signs a reading with its own key file; malformed readings exit 2', async () => {
    const keygen = await alliance(['keygen', '--org', 'org1', '--out', file('device.key.json'), '--json']);
    expect(keygen.code, keygen.stderr).toBe(0);
    const info = keyFileInfo(readFileSync(file('device.key.json'), 'utf8'));
    const args = ['device', 'sign', '--key', file('device.key.json'), '--device', 'urn:epc:id:giai:0614141.TH-0042', '--sequence', '7', '--observed-at', '2026-12-02T08:15:30.250Z'];
    const run = await alliance([...args, '--readings', '[{"type":"Temperature","value":"-18.25","uom":"CEL"}]']);
    expect(run.code, run.stderr).toBe(0);
    const signed = validateSignedTelemetry(JSON.parse(run.stdout));
    expect(signed.reading).toEqual({ deviceId: 'urn:epc:id:giai:0614141.TH-0042', organizationId: 'org1', keyId: info.keyId, sequence: 7, observedAt: '2026-12-02T08:15:30.250Z', readings: [{ type: 'Temperature', value: '-18.25', uom: 'CEL' }] });
    expect(verifyTelemetrySignature(signed, info.publicKey)).toBe(true);
    const float = await alliance([...args, '--readings', '[{"type":"Temperature","value":-18.25,"uom":"CEL"}]']);
    expect(float.code).toBe(2);
    expect(float.stderr).toMatch(/cannot sign: .*decimal string/);
    expect((await alliance([...args, '--readings', '{"type":"Temperature"}'])).code).toBe(2);
    expect((await alliance([...args.slice(0, 4), '--readings', '[]'])).stderr).toMatch(/--device is required/);
  }, 60_000);

  it('verify receipt accepts the worked example and rejects it with any of several flipped bits (exit 1)', async () => {
    const ok = await alliance(['verify', 'receipt', file('receipt.json'), '--members', file('members.json')]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^receipt OK: transaction d2d3f326\S+ VALID in block 1/);
    const unpinned = await alliance(['verify', 'receipt', file('receipt.json')]);
    expect(unpinned.code).toBe(0);
    expect(unpinned.stdout).toMatch(/members not pinned/);

    const bytes = new Uint8Array(readFileSync(file('receipt.json')));
    const bits = bytes.length * 8;
    // First byte, last byte, and spots across the envelope, proofs, header, signatures and members.
    const positions = [0, 7, bits - 1, ...Array.from({ length: 9 }, (_, i) => Math.floor(((i + 1) * bits) / 11) + i)];
    for (const bit of positions) {
      writeFileSync(file('flipped.json'), flipBit(bytes, bit));
      const run = await alliance(['verify', 'receipt', file('flipped.json'), '--members', file('members.json'), '--json']);
      expect(run.code, `bit ${bit}: ${run.stdout}${run.stderr}`).toBe(1);
      expect(JSON.parse(run.stdout).ok).toBe(false);
    }
    // Pinned members that are not the receipt's: exit 1.
    writeFileSync(file('strangers.json'), JSON.stringify({ members: [MEMBERS.members[0], MEMBERS.members[1]] }));
    const strangers = await alliance(['verify', 'receipt', file('receipt.json'), '--members', file('strangers.json')]);
    expect(strangers.code).toBe(1);
    expect(strangers.stdout).toMatch(/PROTOCOL.MEMBERS_MISMATCH/);
  }, 120_000);

  it('receipt fetches a receipt from a node; verify receipt checks it against the genesis file', async () => {
    const id = ledger.blocks[2].results[0].transactionId;
    const fetched = await alliance(['receipt', '--url', ledger.url, id, '--out', file('fetched.json')]);
    expect(fetched.code, fetched.stderr).toBe(0);
    const ok = await alliance(['verify', 'receipt', file('fetched.json'), '--members', file('genesis.json'), '--chain', 'alliance-test']);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toContain(`transaction ${id} VALID in block 2`);
    const wrongChain = await alliance(['verify', 'receipt', file('fetched.json'), '--members', file('genesis.json'), '--chain', 'other-chain']);
    expect(wrongChain.code).toBe(1);
    const unknown = await alliance(['receipt', '--url', ledger.url, 'ab'.repeat(32)]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/LEDGER.TRANSACTION_NOT_FOUND \(HTTP 404\)/);
  }, 60_000);

  it('submit prints the transaction id; a refusal exits 1 with the problem code; an unreachable node exits 3', async () => {
    const signed = await alliance(['sign', '--key', file('org2.key.json'), '--chain', 'alliance-test', '--type', 'ledger.anchor', '--payload', '{"n":2}', '--out', file('envelope.json')]);
    expect(signed.code).toBe(0);
    const first = await alliance(['submit', '--url', ledger.url, file('envelope.json')]);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ status: 'pending', transactionId: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const again = await alliance(['submit', '--url', ledger.url, file('envelope.json')]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/LEDGER.DUPLICATE_TRANSACTION \(HTTP 409\)/);
    const down = await alliance(['submit', '--url', 'http://127.0.0.1:9', file('envelope.json')]);
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/SDK.NETWORK_ERROR/);
  }, 60_000);

  it('verify checkpoint and verify block check signatures against the members', async () => {
    writeFileSync(file('checkpoint.txt'), vectors.checkpoint);
    const cp = await alliance(['verify', 'checkpoint', file('checkpoint.txt'), '--members', file('members.json'), '--chain', 'alliance-main']);
    expect(cp.code, cp.stdout + cp.stderr).toBe(0);
    expect(cp.stdout).toMatch(/checkpoint OK: alliance\/alliance-main tree size 4/);
    writeFileSync(file('checkpoint-bad.txt'), vectors.checkpoint.replace('\n4\n', '\n5\n'));
    expect((await alliance(['verify', 'checkpoint', file('checkpoint-bad.txt'), '--members', file('members.json')])).code).toBe(1);
    expect((await alliance(['verify', 'checkpoint', file('checkpoint.txt')])).code).toBe(2);

    const view = ledger.handle('GET', new URL('http://x/ledger/v1/blocks/3')).body as Record<string, unknown>;
    const previous = ledger.handle('GET', new URL('http://x/ledger/v1/blocks/2')).body;
    writeFileSync(file('block3.json'), JSON.stringify(view));
    writeFileSync(file('block2.json'), JSON.stringify(previous));
    const block = await alliance(['verify', 'block', file('block3.json'), '--members', file('genesis.json'), '--previous', file('block2.json')]);
    expect(block.code, block.stdout + block.stderr).toBe(0);
    expect(block.stdout).toMatch(/block OK: block 3 of alliance-test .* certified by org1, org2, org3, extends block 2/);
    writeFileSync(file('block3-bad.json'), JSON.stringify({ ...view, header: { ...(view['header'] as object), transactionCount: 9 } }));
    expect((await alliance(['verify', 'block', file('block3-bad.json'), '--members', file('genesis.json')])).code).toBe(1);
    expect((await alliance(['verify', 'block', file('block3.json')])).code).toBe(2);
  }, 60_000);

  it('verify chain streams the node, prints progress lines on a non-TTY stderr and a verdict naming the first bad block', async () => {
    const ok = await alliance(['verify', 'chain', '--url', ledger.url, '--members', file('genesis.json'), '--page-size', '2']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^chain OK: alliance-test, blocks 0–5 \(6 blocks, \d+ transactions\)/);
    expect(ok.stdout).toMatch(/note: transaction contents not verified/);
    expect(ok.stderr).toMatch(/^verify chain: \d+\/6 blocks/m);
    expect(ok.stderr).not.toContain('\r');

    const bad = new FakeLedger({ blocks: 5 });
    bad.editRecord(3, 0, (e) => ({ ...e, transaction: { ...(e['transaction'] as object), nonce: 'forged' } }));
    await bad.start();
    try {
      writeFileSync(file('genesis-bad.json'), JSON.stringify(bad.genesis));
      const run = await alliance(['verify', 'chain', '--url', bad.url, '--members', file('genesis-bad.json'), '--quiet']);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^chain INVALID at block 3: PROTOCOL.TRANSACTION_ID_MISMATCH: transaction 0/);
      expect(run.stdout).toMatch(/blocks 0–2 verified before it \(full mode\)/);
      expect(run.stderr).toBe('');
      const json = await alliance(['verify', 'chain', '--url', bad.url, '--json', '--quiet']);
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, blockNumber: 3 });
    } finally {
      await bad.stop();
    }
    expect((await alliance(['verify', 'chain', '--url', 'http://127.0.0.1:9', '--quiet'])).code).toBe(3);
  }, 60_000);

  it('verify chain compares the world state after the blocks and names the block a changed row should equal', async () => {
    const node = new FakeLedger({ blocks: 5 });
    await node.start();
    try {
      writeFileSync(file('genesis-state.json'), JSON.stringify(node.genesis));
      const ok = await alliance(['verify', 'chain', '--url', node.url, '--members', file('genesis-state.json'), '--quiet']);
      expect(ok.code, ok.stdout).toBe(0);
      expect(ok.stdout).toMatch(new RegExp(`; ${node.state.size} state rows match the replayed writes; full mode`));
      const key = node.blocks[2].results[0].writes[0].key;
      node.state.get(key)!.version = 5;
      const bad = await alliance(['verify', 'chain', '--url', node.url, '--members', file('genesis-state.json'), '--quiet']);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toContain(`chain INVALID at block 2: SDK.STATE_MISMATCH: state key ${JSON.stringify(key)} differs from the write of transaction`);
      expect(bad.stdout).toMatch(/version 5 \(written: 1\)\nblocks 0–5 verified \(full mode\)/);
    } finally {
      await node.stop();
    }
  }, 60_000);
});
