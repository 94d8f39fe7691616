import { describe, expect, it } from 'vitest';
import { canonicalBytes, type Envelope, generateKeyPair, keyId, nodeVerify, sha256, signTelemetryReading, signTransaction, toHex, utf8, verify, type KeyPair, type TelemetryReading, type Transaction } from '@alliance/protocol';
import { agentKeyContracts } from './agent-keys';
import { anchorContract } from './anchor';
import { CONFIG_KEY, configUpdateContract, genesisContract } from './config';
import { type Device, deviceContracts, deviceKeyOf, normalizeDeviceId, verifyDeviceTelemetry } from './devices';
import { executeBlock } from './executor';
import { ContractRegistry } from './registry';
import { roleContracts } from './roles';
import type { ChainConfig, JsonValue, StateView, VersionedValue } from './types';

const chainId = 'device-test';
const admins = ['org1', 'org2'].map((organizationId) => ({ organizationId, ...generateKeyPair('ed25519') }));
const [org1, org2] = admins;
const config: ChainConfig = {
  chainId,
  sequence: 0,
  members: admins.map((a) => ({ organizationId: a.organizationId, role: 'manufacturer', nodeKey: { algorithm: 'ed25519', publicKey: toHex(generateKeyPair('ed25519').publicKey) }, keys: [{ keyId: keyId('ed25519', a.publicKey), algorithm: 'ed25519', publicKey: toHex(a.publicKey) }] })),
  policies: { certification: { type: 'majority' }, configuration: { type: 'majority' } },
  cutting: { maxTransactions: 100, maxBytes: 1_048_576, batchTimeoutMs: 200 },
  timestampWindowMs: 60_000,
};
const registry = new ContractRegistry([genesisContract, configUpdateContract, anchorContract, ...agentKeyContracts, ...roleContracts, ...deviceContracts]);
const time = '2026-12-02T08:00:00.000Z';
let nonce = 0;

function signed(org: string, key: KeyPair, type: string, payload: Record<string, unknown>): Envelope {
  return signTransaction({ chainId, type, creator: { organizationId: org, keyId: keyId(key.algorithm, key.publicKey) }, nonce: `d${nonce++}`, timestamp: time, payload } as Transaction, { algorithm: key.algorithm, privateKey: key.privateKey });
}
const pub = (k: KeyPair) => ({ algorithm: k.algorithm, publicKey: toHex(k.publicKey) });

class Chain {
  readonly state = new Map<string, VersionedValue>([[CONFIG_KEY, { value: config as unknown as JsonValue, version: 1 }]]);
  readonly view: StateView = { get: (k) => this.state.get(k) };
  block = 0;

  run(...envelopes: Envelope[]): string[] {
    const out = executeBlock(
      { chainId, blockNumber: ++this.block, blockTimestamp: time, config, state: this.view, isCommitted: () => false, verifier: verify, registry },
      envelopes.map((e) => canonicalBytes(e as unknown as JsonValue)),
    );
    for (const [k, v] of out.writes) this.state.set(k, v);
    return out.transactions.map((t) => t.result.code);
  }

  device(org: string, id: string): Device {
    return this.state.get(deviceKeyOf(org, id))?.value as unknown as Device;
  }
}

const GIAI = 'urn:epc:id:giai:0614141.TH-0042';
const PALLET = 'urn:epc:id:sgtin:0614141.107346.2017';
const DOCK = 'urn:epc:id:sgln:0614141.00777.0';
const COLD_ROOM = 'urn:epc:id:sgln:0614141.00888.cold-2';
const register = (key: KeyPair, deviceId = GIAI, extra: Record<string, unknown> = {}, by: KeyPair = org1, org = 'org1') =>
  signed(org, by, 'identity.device.register', { deviceId, model: 'Siemens SITRANS TS500', key: pub(key), ...extra });
const op = (type: string, payload: Record<string, unknown>, by: KeyPair = org1, org = 'org1') => signed(org, by, `identity.device.${type}`, payload);

describe('device ids', () => {
  it('GIAI URNs, GS1 Digital Links (normalised to the URN) and DIDs; everything else refused', () => {
    expect(normalizeDeviceId(GIAI)).toEqual({ ok: true, deviceId: GIAI, identity: 'giai:0614141TH-0042' });
    expect(normalizeDeviceId('https://id.gs1.org/8004/0614141TH-0042', 7)).toEqual({ ok: true, deviceId: GIAI, identity: 'giai:0614141TH-0042' });
    // A '/' in the asset reference: %2F in both forms.
    expect(normalizeDeviceId('https://id.gs1.org/8004/0614141A%2fB', 7)).toMatchObject({ ok: true, deviceId: 'urn:epc:id:giai:0614141.A%2FB' });
    expect(normalizeDeviceId('urn:epc:id:giai:0614141.A%2FB')).toMatchObject({ ok: true, identity: 'giai:0614141A/B' });
    expect(normalizeDeviceId('https://id.gs1.org/8004/0614141TH-0042')).toMatchObject({ ok: false, link: { elementString: '0614141TH-0042' } });
    expect(normalizeDeviceId('did:web:sensors.example.com:line%3a4')).toEqual({ ok: true, deviceId: 'did:web:sensors.example.com:line%3A4', identity: 'did:web:sensors.example.com:line%3A4' });
    expect(normalizeDeviceId('did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK')).toMatchObject({ ok: true });
    for (const bad of [
      'urn:epc:id:giai:06141.1', // prefix too short
      'urn:epc:id:giai:0614141.', // no asset reference
      'urn:epc:id:giai:0614141.a/b', // unescaped '/'
      'urn:epc:id:giai:0614141.a%2fb', // lower-case escape: not the one form
      `urn:epc:id:giai:0614141.${'1'.repeat(24)}`, // 31 characters
      'urn:epc:id:sgtin:0614141.107346.2017', // not a GIAI
      'https://id.gs1.org/8004/0614141TH-0042?x=1',
      'https://example.com/8004/0614141TH-0042',
      'did:Web:x', // upper-case method
      'did:web:', // empty id
      'did:web:x/path', // a DID URL, not a DID
      'did:web:x#key-1',
      `did:web:${'a'.repeat(130)}`,
      42,
    ]) {
      expect([bad, normalizeDeviceId(bad, undefined).ok]).toEqual([bad, false]);
    }
    expect(normalizeDeviceId('https://id.gs1.org/8004/0614141TH-0042', 13).ok).toBe(false);
  });
});

describe('device lifecycle', () => {
  const device = generateKeyPair('ed25519');

  it('register, bind, unbind, suspend, reactivate, retire: every transition writes the record; illegal ones have codes', () => {
    const chain = new Chain();
    expect(chain.run(register(device, GIAI, { assets: [PALLET], locations: [DOCK] }))).toEqual(['VALID']);
    expect(chain.device('org1', GIAI)).toEqual({
      organizationId: 'org1',
      deviceId: GIAI,
      model: 'Siemens SITRANS TS500',
      key: { keyId: keyId('ed25519', device.publicKey), algorithm: 'ed25519', publicKey: toHex(device.publicKey) },
      status: 'active',
      assets: [PALLET],
      locations: [DOCK],
      registeredAtBlock: 1,
      statusChangedAtBlock: 1,
      statusReason: null,
    });
    expect(chain.state.get(`identity/device-key/${keyId('ed25519', device.publicKey)}`)?.value).toEqual({ organizationId: 'org1', deviceId: GIAI });
    // The same GIAI again — as the URN, as a Digital Link, by another organization — is one device.
    expect(chain.run(register(generateKeyPair('ed25519')))).toEqual(['IDENTITY.DEVICE_EXISTS']);
    expect(chain.run(register(generateKeyPair('ed25519'), 'https://id.gs1.org/8004/0614141TH-0042', { companyPrefixLength: 7 }))).toEqual(['IDENTITY.DEVICE_EXISTS']);
    expect(chain.run(register(generateKeyPair('ed25519'), 'urn:epc:id:giai:061414.1TH-0042', {}, org2, 'org2'))).toEqual(['IDENTITY.DEVICE_EXISTS']);

    expect(chain.run(op('bind', { deviceId: GIAI, locations: [COLD_ROOM] }))).toEqual(['VALID']);
    expect(chain.device('org1', GIAI).locations).toEqual([DOCK, COLD_ROOM].sort());
    expect(chain.run(op('bind', { deviceId: GIAI, assets: [PALLET] }))).toEqual(['IDENTITY.ALREADY_BOUND']);
    expect(chain.run(op('unbind', { deviceId: GIAI, locations: [DOCK], assets: [PALLET] }))).toEqual(['VALID']);
    expect(chain.device('org1', GIAI)).toMatchObject({ assets: [], locations: [COLD_ROOM] });
    expect(chain.run(op('unbind', { deviceId: GIAI, assets: [PALLET] }))).toEqual(['IDENTITY.NOT_BOUND']);
    expect(chain.run(op('bind', { deviceId: GIAI }))).toEqual(['IDENTITY.INVALID']);
    expect(chain.run(op('bind', { deviceId: GIAI, locations: ['urn:epc:id:sgln:0614141.0077.0'] }))).toEqual(['IDENTITY.INVALID']); // 11 digits
    expect(chain.run(op('bind', { deviceId: GIAI, assets: [DOCK] }))).toEqual(['IDENTITY.INVALID']); // a location is not an asset
    expect(chain.run(op('bind', { deviceId: GIAI, assets: ['urn:x:1'] }))).toEqual(['IDENTITY.INVALID']);

    expect(chain.run(op('reactivate', { deviceId: GIAI }))).toEqual(['IDENTITY.DEVICE_NOT_SUSPENDED']);
    expect(chain.run(op('suspend', { deviceId: GIAI, reason: 'calibration due' }))).toEqual(['VALID']);
    expect(chain.device('org1', GIAI)).toMatchObject({ status: 'suspended', statusChangedAtBlock: chain.block, statusReason: 'calibration due' });
    expect(chain.run(op('suspend', { deviceId: GIAI }))).toEqual(['IDENTITY.DEVICE_NOT_ACTIVE']);
    // A suspended device can still be re-bound (maintenance), and is found by its Digital Link.
    expect(chain.run(op('bind', { deviceId: 'https://id.gs1.org/8004/0614141TH-0042', assets: [PALLET] }))).toEqual(['VALID']);
    expect(chain.run(op('reactivate', { deviceId: GIAI }))).toEqual(['VALID']);
    expect(chain.device('org1', GIAI)).toMatchObject({ status: 'active', statusReason: null, assets: [PALLET] });
    expect(chain.run(op('retire', { deviceId: GIAI, reason: 'end of life' }))).toEqual(['VALID']);
    expect(chain.device('org1', GIAI)).toMatchObject({ status: 'retired', statusChangedAtBlock: chain.block });
    for (const type of ['suspend', 'reactivate', 'retire']) expect(chain.run(op(type, { deviceId: GIAI }))).toEqual(['IDENTITY.DEVICE_RETIRED']);
    expect(chain.run(op('bind', { deviceId: GIAI, locations: [DOCK] }))).toEqual(['IDENTITY.DEVICE_RETIRED']);
    // Retired means retired: the id and the key stay taken.
    expect(chain.run(register(generateKeyPair('ed25519')))).toEqual(['IDENTITY.DEVICE_EXISTS']);
    expect(chain.run(register(device, 'did:web:new.example.com'))).toEqual(['IDENTITY.KEY_EXISTS']);
    expect(chain.run(op('suspend', { deviceId: 'did:web:nobody.example.com' }))).toEqual(['IDENTITY.DEVICE_NOT_FOUND']);
  });

  it('a suspended device can be retired; suspend from retired is refused', () => {
    const chain = new Chain();
    chain.run(register(device, 'did:web:plant.example.com:press-7'));
    expect(chain.run(op('suspend', { deviceId: 'did:web:plant.example.com:press-7' }), op('retire', { deviceId: 'did:web:plant.example.com:press-7' }))).toEqual(['VALID', 'VALID']);
    expect(chain.device('org1', 'did:web:plant.example.com:press-7').status).toBe('retired');
  });

  it('malformed registrations are refused', () => {
    const chain = new Chain();
    const k = generateKeyPair('ecdsa-p256');
    expect(chain.run(register(k, 'not-an-id'))).toEqual(['IDENTITY.INVALID']);
    expect(chain.run(register(k, 'https://id.gs1.org/8004/0614141TH-0042'))).toEqual(['IDENTITY.INVALID']); // where does the prefix end?
    expect(chain.run(register(k, GIAI, { companyPrefixLength: 7 }))).toEqual(['IDENTITY.INVALID']); // only for a Digital Link
    expect(chain.run(register(k, GIAI, { model: '' }))).toEqual(['IDENTITY.INVALID']);
    expect(chain.run(register(k, GIAI, { owner: 'org2' }))).toEqual(['IDENTITY.INVALID']);
    expect(chain.run(register(k, GIAI, { assets: [PALLET, PALLET] }))).toEqual(['IDENTITY.INVALID']);
    expect(chain.run(signed('org1', org1, 'identity.device.register', { deviceId: GIAI, model: 'x', key: { algorithm: 'ed25519', publicKey: '00'.repeat(32) } }))).toEqual(['IDENTITY.INVALID']);
    expect(chain.run(register(k, 'https://id.gs1.org/8004/0614141TH-0042', { companyPrefixLength: 7 }))).toEqual(['VALID']);
    expect(chain.device('org1', GIAI).key.algorithm).toBe('ecdsa-p256');
  });
});

describe('who may manage devices', () => {
  it('an admin of the owner, or its agent with identity.device.manage; not another organization, not an agent without it', () => {
    const chain = new Chain();
    const operator = generateKeyPair('ed25519');
    const clerk = generateKeyPair('ed25519');
    const foreign = generateKeyPair('ed25519');
    expect(
      chain.run(
        signed('org1', org1, 'identity.role.define', { roleId: 'device-operator', permissions: ['identity.device.manage'] }),
        signed('org1', org1, 'identity.agent.register', { agentId: 'ops', name: 'OT operator', roles: ['device-operator'], keys: [pub(operator)] }),
        signed('org1', org1, 'identity.agent.register', { agentId: 'clerk', name: 'Clerk', keys: [pub(clerk)] }),
        signed('org2', org2, 'identity.agent.register', { agentId: 'ops', name: 'org2 operator', keys: [pub(foreign)] }),
        // org1 even grants its device role to org2's agent: that does not let it manage org1's devices.
        signed('org1', org1, 'identity.role.grant', { roleId: 'device-operator', agent: { organizationId: 'org2', agentId: 'ops' } }),
      ),
    ).toEqual(['VALID', 'VALID', 'VALID', 'VALID', 'VALID']);
    expect(chain.run(register(generateKeyPair('ed25519'), GIAI, {}, clerk))).toEqual(['IDENTITY.NOT_ALLOWED']);
    expect(chain.run(register(generateKeyPair('ed25519'), GIAI, {}, operator))).toEqual(['VALID']);
    expect(chain.device('org1', GIAI).organizationId).toBe('org1');
    expect(chain.run(op('suspend', { deviceId: GIAI }, operator))).toEqual(['VALID']);
    expect(chain.run(op('reactivate', { deviceId: GIAI }, clerk))).toEqual(['IDENTITY.NOT_ALLOWED']);
    // Another organization's admin, and its agent, cannot touch org1's device.
    expect(chain.run(op('reactivate', { deviceId: GIAI }, org2, 'org2'))).toEqual(['IDENTITY.NOT_ALLOWED']);
    expect(chain.run(op('retire', { deviceId: GIAI }, foreign, 'org2'))).toEqual(['IDENTITY.NOT_ALLOWED']);
    expect(chain.run(op('retire', { deviceId: GIAI }, foreign, 'org1'))).toEqual(['LEDGER.UNKNOWN_KEY']);
    expect(chain.device('org1', GIAI).status).toBe('suspended');
    // The role taken away: the operator can no longer.
    expect(chain.run(signed('org1', org1, 'identity.agent.update', { agentId: 'ops', roles: [] }), op('reactivate', { deviceId: GIAI }, operator))).toEqual(['VALID', 'IDENTITY.NOT_ALLOWED']);
  });
});

describe('keys are never reused between agents, devices and the configuration', () => {
  it('a device key cannot be an agent, admin or node key or another device’s, and an agent key cannot be a device’s; a device key signs no transaction', () => {
    const chain = new Chain();
    const agentKey = generateKeyPair('ed25519');
    const deviceKey = generateKeyPair('ecdsa-secp256k1');
    chain.run(signed('org1', org1, 'identity.agent.register', { agentId: 'erp', name: 'ERP', keys: [pub(agentKey)] }));
    expect(chain.run(register(agentKey))).toEqual(['IDENTITY.KEY_EXISTS']);
    expect(chain.run(register(org2, GIAI, {}, org1))).toEqual(['IDENTITY.KEY_EXISTS']); // an admin key
    const nodeKey = { algorithm: 'ed25519', publicKey: config.members[0].nodeKey.publicKey };
    expect(chain.run(signed('org1', org1, 'identity.device.register', { deviceId: GIAI, model: 'x', key: nodeKey }))).toEqual(['IDENTITY.KEY_EXISTS']);
    expect(chain.run(register(deviceKey))).toEqual(['VALID']);
    expect(chain.run(register(deviceKey, 'did:web:other.example.com'))).toEqual(['IDENTITY.KEY_EXISTS']);
    expect(chain.run(signed('org1', org1, 'identity.agent.register', { agentId: 'erp-2', name: 'ERP 2', keys: [pub(deviceKey)] }))).toEqual(['IDENTITY.KEY_EXISTS']);
    expect(chain.run(signed('org1', org1, 'identity.agent.key.add', { agentId: 'erp', key: pub(deviceKey) }))).toEqual(['IDENTITY.KEY_EXISTS']);
    expect(chain.run(signed('org1', deviceKey, 'ledger.anchor', { hash: toHex(sha256(utf8('x'))) }))).toEqual(['LEDGER.UNKNOWN_KEY']);
  });
});

describe('verifyDeviceTelemetry', () => {
  const key = generateKeyPair('ed25519');
  const reading = (over: Partial<TelemetryReading> = {}): TelemetryReading => ({
    deviceId: GIAI,
    organizationId: 'org1',
    keyId: keyId('ed25519', key.publicKey),
    sequence: 1,
    observedAt: '2026-12-02T08:15:30.250Z',
    readings: [{ type: 'Temperature', value: '-18.25', uom: 'CEL' }],
    ...over,
  });

  it('accepts an active registered device signing with its key; suspended, retired, unknown, wrong key, tampered fail with codes', () => {
    const chain = new Chain();
    chain.run(register(key));
    const ok = signTelemetryReading(reading(), key);
    expect(verifyDeviceTelemetry(chain.view, ok, nodeVerify)).toMatchObject({ ok: true, device: { deviceId: GIAI, status: 'active' } });
    expect(verifyDeviceTelemetry(chain.view, ok, verify).ok).toBe(true);

    const tampered = { ...ok, reading: { ...ok.reading, readings: [{ type: 'Temperature', value: '4.00', uom: 'CEL' }] } };
    expect(verifyDeviceTelemetry(chain.view, tampered, nodeVerify)).toMatchObject({ ok: false, code: 'IDENTITY.BAD_SIGNATURE' });
    // Signed by another key that claims the device's key id.
    const impostor = generateKeyPair('ed25519');
    const forged = { ...ok, signature: { ...ok.signature, value: signTelemetryReading(reading({ keyId: keyId('ed25519', impostor.publicKey) }), impostor).signature.value } };
    expect(verifyDeviceTelemetry(chain.view, forged, nodeVerify)).toMatchObject({ ok: false, code: 'IDENTITY.BAD_SIGNATURE' });
    // A reading under another key than the device's.
    expect(verifyDeviceTelemetry(chain.view, signTelemetryReading(reading({ keyId: keyId('ed25519', impostor.publicKey) }), impostor), nodeVerify)).toMatchObject({ ok: false, code: 'IDENTITY.DEVICE_KEY_MISMATCH' });
    expect(verifyDeviceTelemetry(chain.view, signTelemetryReading(reading({ deviceId: 'did:web:unknown.example.com' }), key), nodeVerify)).toMatchObject({ ok: false, code: 'IDENTITY.DEVICE_NOT_FOUND' });
    expect(verifyDeviceTelemetry(chain.view, signTelemetryReading(reading({ organizationId: 'org2' }), key), nodeVerify)).toMatchObject({ ok: false, code: 'IDENTITY.DEVICE_NOT_FOUND' });
    expect(verifyDeviceTelemetry(chain.view, { ...ok, signature: { ...ok.signature, value: 'x' } }, nodeVerify)).toMatchObject({ ok: false, code: 'IDENTITY.INVALID' });

    chain.run(op('suspend', { deviceId: GIAI }));
    expect(verifyDeviceTelemetry(chain.view, ok, nodeVerify)).toMatchObject({ ok: false, code: 'IDENTITY.DEVICE_NOT_ACTIVE' });
    chain.run(op('reactivate', { deviceId: GIAI }));
    expect(verifyDeviceTelemetry(chain.view, ok, nodeVerify).ok).toBe(true);
    chain.run(op('retire', { deviceId: GIAI }));
    expect(verifyDeviceTelemetry(chain.view, ok, nodeVerify)).toMatchObject({ ok: false, code: 'IDENTITY.DEVICE_NOT_ACTIVE' });
  });

  it('a device of an organization that is no longer a member signs nothing that counts', () => {
    const chain = new Chain();
    chain.run(register(key));
    const ok = signTelemetryReading(reading(), key);
    const departed = { ...config, members: config.members.filter((m) => m.organizationId !== 'org1') };
    chain.state.set(CONFIG_KEY, { value: departed as unknown as JsonValue, version: 2 });
    expect(verifyDeviceTelemetry(chain.view, ok, nodeVerify)).toMatchObject({ ok: false, code: 'IDENTITY.DEVICE_NOT_ACTIVE' });
  });
});
