import { describe, expect, it } from 'vitest';
import { canonicalBytes, type Envelope, generateKeyPair, keyId, signTelemetryReading, signTransaction, toHex, verify, type KeyPair, type SignedTelemetry, type TelemetryReading, type Transaction } from '@alliance/protocol';
import { agentKeyContracts } from './agent-keys';
import { CONFIG_KEY, genesisContract } from './config';
import { deviceContracts } from './devices';
import { executeBlock } from './executor';
import { provenanceContracts } from './provenance';
import { ContractRegistry } from './registry';
import { roleContracts } from './roles';
import { compareDecimal, decimalDistance, MAX_SENSOR_READINGS, productOfSubject, type SensorBatchRecord, sensorBatchKeyOf, sensorContracts, type SensorRule, sensorRuleKeyOf, sensorSubjectKindOf } from './sensors';
import type { ChainConfig, JsonValue, VersionedValue } from './types';

const chainId = 'sensor-test';
const org1 = generateKeyPair('ed25519');
const org2 = generateKeyPair('ed25519');
const keyOf = (k: KeyPair) => ({ keyId: keyId('ed25519', k.publicKey), algorithm: 'ed25519', publicKey: toHex(k.publicKey) });
const config: ChainConfig = {
  chainId,
  sequence: 0,
  members: [org1, org2].map((k, i) => ({ organizationId: `org${i + 1}`, role: 'manufacturer', nodeKey: { algorithm: 'ed25519' as const, publicKey: toHex(generateKeyPair('ed25519').publicKey) }, keys: [keyOf(k)] })),
  policies: { certification: { type: 'majority' }, configuration: { type: 'majority' } },
  cutting: { maxTransactions: 100, maxBytes: 1_048_576, batchTimeoutMs: 200 },
  timestampWindowMs: 60_000,
};
const registry = new ContractRegistry([genesisContract, ...agentKeyContracts, ...roleContracts, ...deviceContracts, ...provenanceContracts]);
const time = '2026-12-02T08:00:00.000Z';
let nonce = 0;
const signed = (org: string, key: KeyPair, type: string, payload: Record<string, unknown>): Envelope =>
  signTransaction({ chainId, type, creator: { organizationId: org, keyId: keyId('ed25519', key.publicKey) }, nonce: `s${nonce++}`, timestamp: time, payload } as Transaction, { algorithm: 'ed25519', privateKey: key.privateKey });
const pub = (k: KeyPair) => ({ algorithm: k.algorithm, publicKey: toHex(k.publicKey) });

class Chain {
  readonly state = new Map<string, VersionedValue>([[CONFIG_KEY, { value: config as unknown as JsonValue, version: 1 }]]);
  block = 0;
  run(...envelopes: Envelope[]): Array<{ code: string; detail: string | null }> {
    const out = executeBlock({ chainId, blockNumber: ++this.block, blockTimestamp: time, config, state: { get: (k) => this.state.get(k) }, isCommitted: () => false, verifier: verify, registry }, envelopes.map((e) => canonicalBytes(e as unknown as JsonValue)));
    for (const [k, v] of out.writes) this.state.set(k, v);
    return out.transactions.map((t) => ({ code: t.result.code, detail: t.detail ?? null }));
  }
  codes(...envelopes: Envelope[]): string[] {
    return this.run(...envelopes).map((r) => r.code);
  }
  value<T>(key: string): T | undefined {
    const v = this.state.get(key)?.value;
    return v === null || v === undefined ? undefined : (v as unknown as T);
  }
}

const GTIN = 'https://id.gs1.org/01/09506000134352';
const SGTIN = 'https://id.gs1.org/01/09506000134352/21/abc-42';
const SSCC = 'https://id.gs1.org/00/106141412345678908';
const rule = (over: Record<string, unknown> = {}) => ({ ruleId: 'cold-chain', subject: { kind: 'product', id: GTIN }, measurementType: 'Temperature', uom: 'CEL', min: '2', max: '8.0', durationSeconds: 600, ...over });
// Through JSON: a field set to undefined is absent (canonical JSON has no undefined).
const define = (payload: Record<string, unknown>, by: KeyPair = org1, org = 'org1') => signed(org, by, 'provenance.sensor.rule.define', JSON.parse(JSON.stringify(payload)) as Record<string, unknown>);

describe('sensor subjects and decimals', () => {
  it('names GTINs products, SSCCs shipments and instance keys items; wrong digits and other keys are none', () => {
    expect(sensorSubjectKindOf(GTIN)).toBe('product');
    expect(sensorSubjectKindOf(SSCC)).toBe('shipment');
    for (const item of [SGTIN, 'https://id.gs1.org/01/09506000134352/235/TPX1', 'https://id.gs1.org/8004/0614141TH-0042', 'https://id.gs1.org/8003/00614141000029S1', 'https://id.gs1.org/8006/095060001343520102/21/9', 'https://id.gs1.org/8010/0614141AB/8011/7']) {
      expect([item, sensorSubjectKindOf(item)]).toEqual([item, 'item']);
    }
    for (const bad of [
      'https://id.gs1.org/01/09506000134353', // check digit
      'https://id.gs1.org/00/106141412345678907',
      'https://id.gs1.org/01/09506000134353/21/abc',
      'https://id.gs1.org/8003/00614141000023S1',
      'https://id.gs1.org/01/09506000134352/10/LOT1', // a lot: a class, not a subject kind
      'https://id.gs1.org/8003/00614141000029', // a GRAI without serial
      'https://id.gs1.org/414/6901234000016', // a location
      'https://example.com/01/09506000134352', // not the canonical domain
      'urn:epc:id:sgtin:0614141.107346.2017',
      'https://id.gs1.org/01/09506000134352/21/a%2fb', // lower-case escape: not the canonical form
      `https://id.gs1.org/8004/${'1'.repeat(300)}`,
      42,
    ]) {
      expect([bad, sensorSubjectKindOf(bad)]).toEqual([bad, undefined]);
    }
    expect(productOfSubject(SGTIN)).toBe(GTIN);
    expect(productOfSubject(SSCC)).toBeUndefined();
    expect(productOfSubject('https://id.gs1.org/01/09506000134353/21/abc')).toBeUndefined();
  });

  it('compares and subtracts decimals exactly: signs, fraction lengths, digits beyond a double', () => {
    expect(compareDecimal('8', '8.000')).toBe(0);
    expect(compareDecimal('-0', '0.0')).toBe(0);
    expect(compareDecimal('8.01', '8.1')).toBe(-1);
    expect(compareDecimal('-18.25', '-18.3')).toBe(1);
    expect(compareDecimal('-1', '0.5')).toBe(-1);
    expect(compareDecimal('10', '9.999')).toBe(1);
    // Equal as doubles, not as decimals.
    expect(Number('0.10000000000000000001')).toBe(Number('0.1'));
    expect(compareDecimal('0.10000000000000000001', '0.1')).toBe(1);
    expect(compareDecimal('12345678901234567890123456789', '12345678901234567890123456788')).toBe(1);
    expect(() => compareDecimal('1e3', '1')).toThrow(/not a decimal/);
    expect(decimalDistance('8.0', '9.25')).toBe('1.25');
    expect(decimalDistance('-2', '2')).toBe('4');
    expect(decimalDistance('1.5', '1.45')).toBe('0.05');
    expect(decimalDistance('-0.5', '-0.75')).toBe('0.25');
  });
});

describe('provenance.sensor.rule.define / retire', () => {
  it('defines a rule of the creator’s organization, replaces it with version + 1, retires it; another organization’s same ruleId is its own', () => {
    const chain = new Chain();
    expect(chain.codes(define(rule()))).toEqual(['VALID']);
    expect(chain.value<SensorRule>(sensorRuleKeyOf('org1', 'cold-chain'))).toMatchObject({
      organizationId: 'org1',
      ruleId: 'cold-chain',
      subject: { kind: 'product', id: GTIN },
      measurementType: 'Temperature',
      uom: 'CEL',
      min: '2',
      max: '8.0',
      durationSeconds: 600,
      disposition: 'non_conformant',
      version: 1,
      definedAtBlock: 1,
      definedAt: time,
    } satisfies Partial<SensorRule>);
    expect(chain.codes(define(rule({ min: undefined, max: '-18', durationSeconds: 0, disposition: 'damaged', subject: { kind: 'shipment', id: SSCC } })))).toEqual(['VALID']);
    expect(chain.value<SensorRule>(sensorRuleKeyOf('org1', 'cold-chain'))).toMatchObject({ min: null, max: '-18', durationSeconds: 0, disposition: 'damaged', subject: { kind: 'shipment', id: SSCC }, version: 2, definedAtBlock: 2 });
    expect(chain.codes(define(rule(), org2, 'org2'))).toEqual(['VALID']);
    expect(chain.value<SensorRule>(sensorRuleKeyOf('org2', 'cold-chain'))).toMatchObject({ organizationId: 'org2', version: 1 });

    expect(chain.codes(signed('org1', org1, 'provenance.sensor.rule.retire', { ruleId: 'cold-chain' }))).toEqual(['VALID']);
    expect(chain.value(sensorRuleKeyOf('org1', 'cold-chain'))).toBeUndefined();
    expect(chain.value<SensorRule>(sensorRuleKeyOf('org2', 'cold-chain'))?.version).toBe(1);
    const again = chain.run(signed('org1', org1, 'provenance.sensor.rule.retire', { ruleId: 'cold-chain' }))[0];
    expect(again).toEqual({ code: 'PROVENANCE.UNKNOWN_RULE', detail: 'org1 has no sensor rule cold-chain' });
    expect(chain.codes(define(rule({ subject: { kind: 'item', id: SGTIN } })))).toEqual(['VALID']);
    expect(chain.value<SensorRule>(sensorRuleKeyOf('org1', 'cold-chain'))).toMatchObject({ version: 1, subject: { kind: 'item', id: SGTIN } });
  });

  it('refuses malformed rules with PROVENANCE.INVALID_RULE, saying what is wrong', () => {
    const chain = new Chain();
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [rule({ ruleId: '-x' }), /ruleId/],
      [rule({ ruleId: 'a/b' }), /ruleId/],
      [rule({ subject: { kind: 'item', id: GTIN } }), /kind must be "product"/],
      [rule({ subject: { kind: 'product', id: 'https://id.gs1.org/01/09506000134353' } }), /check digit/],
      [rule({ subject: { kind: 'product', id: GTIN, extra: 1 } }), /payload.subject/],
      [rule({ subject: GTIN }), /payload.subject/],
      [rule({ measurementType: 'temperature' }), /measurementType/],
      [rule({ measurementType: 'https://gs1.org/voc/Temperature' }), /measurementType/],
      [rule({ uom: 'celsius' }), /uom/],
      [rule({ min: undefined, max: undefined }), /needs payload.min, payload.max or both/],
      [rule({ min: 2 }), /payload.min/],
      [rule({ max: '8e0' }), /payload.max/],
      [rule({ min: '-0' }), /payload.min/],
      [rule({ min: '08' }), /payload.min/],
      [rule({ min: '8.25', max: '8.2' }), /above payload.max/],
      [rule({ durationSeconds: -1 }), /durationSeconds/],
      [rule({ durationSeconds: '600' }), /durationSeconds/],
      [rule({ durationSeconds: 31_622_401 }), /durationSeconds/],
      [rule({ disposition: 'active' }), /disposition/],
      [rule({ disposition: 'https://ref.gs1.org/cbv/Disp-damaged' }), /disposition/],
      [rule({ severity: 'high' }), /unexpected payload field\(s\): severity/],
    ];
    for (const [payload, detail] of cases) {
      const [r] = chain.run(define(payload));
      expect([payload, r.code]).toEqual([payload, 'PROVENANCE.INVALID_RULE']);
      expect(r.detail).toMatch(detail);
    }
    // Bounds equal in value but not in text are a valid (one-point) band.
    expect(chain.codes(define(rule({ min: '4', max: '4.00' })))).toEqual(['VALID']);
    expect(chain.codes(signed('org1', org1, 'provenance.sensor.rule.retire', { ruleId: 'cold-chain', force: true }))).toEqual(['PROVENANCE.INVALID_RULE']);
  });
});

describe('provenance.sensor.readings', () => {
  const deviceA = generateKeyPair('ed25519');
  const deviceB = generateKeyPair('ecdsa-p256');
  const foreignDevice = generateKeyPair('ed25519');
  const A = 'urn:epc:id:giai:0614141.TH-0042';
  const B = 'did:web:sensors.example.com:reefer-7';
  const F = 'urn:epc:id:giai:0614142.X-1';
  const keys: Record<string, KeyPair> = { [A]: deviceA, [B]: deviceB, [F]: foreignDevice };
  const reading = (deviceId: string, observedAt: string, value: string | number = '4.5', organizationId = deviceId === F ? 'org2' : 'org1'): SignedTelemetry =>
    signTelemetryReading({ deviceId, organizationId, keyId: keyId(keys[deviceId].algorithm, keys[deviceId].publicKey), observedAt, readings: [{ type: 'Temperature', value, uom: 'CEL' }] } as TelemetryReading, keys[deviceId]);
  const batch = (batchId: string, readings: unknown[], over: Record<string, unknown> = {}) => signed('org1', org1, 'provenance.sensor.readings', { batchId, subject: SSCC, readings, ...over });

  function setUp(): Chain {
    const chain = new Chain();
    expect(
      chain.codes(
        signed('org1', org1, 'identity.device.register', { deviceId: A, model: 'TH sensor', key: pub(deviceA) }),
        signed('org1', org1, 'identity.device.register', { deviceId: B, model: 'Reefer logger', key: pub(deviceB) }),
        signed('org2', org2, 'identity.device.register', { deviceId: F, model: 'Carrier logger', key: pub(foreignDevice) }),
      ),
    ).toEqual(['VALID', 'VALID', 'VALID']);
    return chain;
  }

  it('anchors a batch of two devices’ readings with its series hash as a small record', () => {
    const chain = setUp();
    const series = { sha256: 'ab'.repeat(32), count: 86_400, from: '2026-12-01T08:00:00.000Z', to: '2026-12-02T07:59:59.000Z' };
    const readings = [reading(B, '2026-12-02T07:00:00.000Z'), reading(A, '2026-12-02T07:00:00.000Z', 5), reading(A, '2026-12-02T07:30:00.000Z', '9.25'), reading(B, '2026-12-02T08:00:30.000Z')];
    expect(chain.codes(batch('batch-0001', readings, { series }))).toEqual(['VALID']);
    expect(chain.value<SensorBatchRecord>(sensorBatchKeyOf('batch-0001'))).toMatchObject({
      batchId: 'batch-0001',
      organizationId: 'org1',
      subject: SSCC,
      readingCount: 4,
      devices: [B, A].sort(),
      from: '2026-12-02T07:00:00.000Z',
      to: '2026-12-02T08:00:30.000Z',
      series,
      blockNumber: 2,
    } satisfies Partial<SensorBatchRecord>);
    expect(chain.codes(batch('batch-0002', [reading(A, '2026-12-02T07:45:00.000Z')]))).toEqual(['VALID']);
    expect(chain.value<SensorBatchRecord>(sensorBatchKeyOf('batch-0002'))?.series).toBeNull();
    // The batch id is taken, whoever submits it next.
    const dup = chain.run(batch('batch-0001', [reading(A, '2026-12-02T07:50:00.000Z')]))[0];
    expect(dup).toEqual({ code: 'PROVENANCE.DUPLICATE_BATCH', detail: 'sensor batch batch-0001 is already anchored' });
  });

  it('refuses the whole batch for one reading that does not count, naming its index and the reason', () => {
    const chain = setUp();
    const ok = reading(A, '2026-12-02T07:00:00.000Z');
    const tampered = { ...ok, reading: { ...ok.reading, observedAt: '2026-12-02T07:10:00.000Z' } };
    expect(chain.run(batch('batch-0010', [ok, tampered]))[0]).toEqual({ code: 'IDENTITY.BAD_SIGNATURE', detail: `payload.readings[1]: the signature of device ${A} does not verify` });
    expect(chain.run(batch('batch-0011', [ok, { ...ok, signature: { ...ok.signature, value: 'x' } }]))[0]).toMatchObject({ code: 'IDENTITY.INVALID', detail: expect.stringMatching(/^payload\.readings\[1\]: malformed telemetry/) });
    // A key that is not the device's.
    const impostor = generateKeyPair('ed25519');
    const wrongKey = signTelemetryReading({ ...ok.reading, keyId: keyId('ed25519', impostor.publicKey) }, impostor);
    expect(chain.run(batch('batch-0012', [wrongKey]))[0].code).toBe('IDENTITY.DEVICE_KEY_MISMATCH');
    const unknown = { ...reading(A, '2026-12-02T07:00:00.000Z'), reading: { ...ok.reading, deviceId: 'did:web:nobody.example.com' } };
    expect(chain.run(batch('batch-0013', [unknown]))[0]).toMatchObject({ code: 'IDENTITY.DEVICE_NOT_FOUND', detail: expect.stringMatching(/^payload\.readings\[0\]: /) });
    // Suspended: its readings stop counting from that block on.
    expect(chain.codes(signed('org1', org1, 'identity.device.suspend', { deviceId: B }))).toEqual(['VALID']);
    expect(chain.run(batch('batch-0014', [ok, reading(B, '2026-12-02T07:00:01.000Z')]))[0]).toMatchObject({ code: 'IDENTITY.DEVICE_NOT_ACTIVE', detail: expect.stringMatching(/^payload\.readings\[1\]: device did:web/) });
    // Nothing of a refused batch was written.
    for (const id of ['batch-0010', 'batch-0011', 'batch-0012', 'batch-0013', 'batch-0014']) expect(chain.value(sensorBatchKeyOf(id))).toBeUndefined();
    expect(chain.codes(batch('batch-0010', [ok]))).toEqual(['VALID']);
  });

  it('only the device’s owner submits its readings', () => {
    const chain = setUp();
    const theirs = reading(F, '2026-12-02T07:00:00.000Z');
    expect(chain.run(batch('batch-0020', [reading(A, '2026-12-02T06:00:00.000Z'), theirs]))[0]).toEqual({
      code: 'PROVENANCE.NOT_DEVICE_OWNER',
      detail: 'payload.readings[1] is of a device of org2; org1 submits only its own devices’ readings',
    });
    expect(chain.codes(signed('org2', org2, 'provenance.sensor.readings', { batchId: 'batch-0021', subject: SSCC, readings: [theirs] }))).toEqual(['VALID']);
    // A reading that claims org1 for org2's device is not org1's device either: not found under org1.
    const claimed = signTelemetryReading({ ...theirs.reading, organizationId: 'org1' }, foreignDevice);
    expect(chain.run(batch('batch-0022', [claimed]))[0].code).toBe('IDENTITY.DEVICE_NOT_FOUND');
  });

  it('refuses readings out of order, a device’s instant twice, a reading from after the block, and a malformed batch', () => {
    const chain = setUp();
    const early = reading(A, '2026-12-02T07:00:00.000Z');
    const late = reading(A, '2026-12-02T07:30:00.000Z');
    expect(chain.run(batch('batch-0030', [late, early]))[0]).toMatchObject({ code: 'PROVENANCE.INVALID_READINGS', detail: expect.stringMatching(/^payload\.readings\[1\] .*must not decrease/) });
    expect(chain.run(batch('batch-0031', [early, reading(A, '2026-12-02T07:00:00.000Z', '6')]))[0]).toMatchObject({ code: 'PROVENANCE.INVALID_READINGS', detail: expect.stringMatching(/repeats device/) });
    // Two devices at one instant is fine.
    expect(chain.codes(batch('batch-0032', [early, reading(B, '2026-12-02T07:00:00.000Z')]))).toEqual(['VALID']);
    // The block is at 08:00:00.000 with a 60 s window: 08:01:00.000 counts, 08:01:00.001 does not.
    expect(chain.codes(batch('batch-0033', [reading(A, '2026-12-02T08:01:00.000Z')]))).toEqual(['VALID']);
    expect(chain.run(batch('batch-0034', [reading(A, '2026-12-02T08:01:00.001Z')]))[0]).toMatchObject({ code: 'PROVENANCE.INVALID_READINGS', detail: expect.stringMatching(/after the block's time/) });
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ batchId: 'short' }, /batchId/],
      [{ subject: 'urn:epc:id:sscc:0614141.1234567890' }, /subject/],
      [{ subject: 'https://id.gs1.org/00/106141412345678907' }, /subject/],
      [{ readings: [] }, /1-500/],
      [{ readings: Array.from({ length: MAX_SENSOR_READINGS + 1 }, () => early) }, /1-500/],
      [{ series: { sha256: 'AB'.repeat(32), count: 1, from: early.reading.observedAt, to: early.reading.observedAt } }, /series/],
      [{ series: { sha256: 'ab'.repeat(32), count: 0, from: early.reading.observedAt, to: early.reading.observedAt } }, /series/],
      [{ series: { sha256: 'ab'.repeat(32), count: 2, from: late.reading.observedAt, to: early.reading.observedAt } }, /series/],
      [{ series: { sha256: 'ab'.repeat(32), count: 2, from: '2026-12-02T07:00:00Z', to: late.reading.observedAt } }, /series/],
      [{ series: { sha256: 'ab'.repeat(32), count: 2, from: early.reading.observedAt, to: late.reading.observedAt, url: 'https://x' } }, /series/],
      [{ extra: true }, /unexpected payload field\(s\): extra/],
    ];
    for (const [over, detail] of bad) {
      const [r] = chain.run(batch('batch-0035', [early], over));
      expect([Object.keys(over), r.code]).toEqual([Object.keys(over), 'PROVENANCE.INVALID_READINGS']);
      expect(r.detail).toMatch(detail);
    }
    expect(chain.value(sensorBatchKeyOf('batch-0035'))).toBeUndefined();
  });

  it('takes an admin key, or an agent with provenance.sensor.capture (readings) / provenance.sensor.manage (rules) — not the other', () => {
    const chain = setUp();
    const logger = generateKeyPair('ed25519');
    const quality = generateKeyPair('ed25519');
    expect(
      chain.codes(
        signed('org1', org1, 'identity.role.define', { roleId: 'logger', permissions: ['provenance.sensor.capture'] }),
        signed('org1', org1, 'identity.role.define', { roleId: 'quality', permissions: ['provenance.sensor.manage'] }),
        signed('org1', org1, 'identity.agent.register', { agentId: 'gateway', name: 'IoT gateway', roles: ['logger'], keys: [pub(logger)] }),
        signed('org1', org1, 'identity.agent.register', { agentId: 'qa', name: 'Quality', roles: ['quality'], keys: [pub(quality)] }),
      ),
    ).toEqual(['VALID', 'VALID', 'VALID', 'VALID']);
    const readings = { batchId: 'batch-0040', subject: SSCC, readings: [reading(A, '2026-12-02T07:00:00.000Z')] };
    expect(chain.codes(signed('org1', quality, 'provenance.sensor.readings', readings))).toEqual(['IDENTITY.NOT_ALLOWED']);
    expect(chain.codes(signed('org1', logger, 'provenance.sensor.readings', readings))).toEqual(['VALID']);
    expect(chain.codes(define(rule(), logger))).toEqual(['IDENTITY.NOT_ALLOWED']);
    expect(chain.codes(define(rule(), quality))).toEqual(['VALID']);
    expect(chain.codes(signed('org1', logger, 'provenance.sensor.rule.retire', { ruleId: 'cold-chain' }))).toEqual(['IDENTITY.NOT_ALLOWED']);
    expect(chain.codes(signed('org1', quality, 'provenance.sensor.rule.retire', { ruleId: 'cold-chain' }))).toEqual(['VALID']);
    // Registered on every node with the capture contract.
    expect(provenanceContracts.map((c) => c.type)).toEqual(expect.arrayContaining(sensorContracts.map((c) => c.type)));
  });
});
