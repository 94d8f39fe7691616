import { describe, expect, it } from 'vitest';
import { fromHex, nodeVerify, verifyTelemetrySignature } from '@alliance/protocol';
import { AllianceSdkError } from './errors';
import { generateKey } from './keys';
import { signTelemetry } from './telemetry';

const codeOf = (f: () => unknown) => {
  try {
    f();
    return 'no error';
  } catch (e) {
    return e instanceof AllianceSdkError ? e.code : String(e);
  }
};

describe('signTelemetry', () => {
  it('a device signs a reading with the key it holds; the key id, organization and time are filled in', () => {
    const device = generateKey({ organizationId: 'org1', algorithm: 'ecdsa-p256' });
    const before = Date.now();
    const signed = signTelemetry(device, { deviceId: 'urn:epc:id:giai:0614141.TH-0042', sequence: 3, readings: [{ type: 'Temperature', value: '-18.25', uom: 'CEL' }] });
    expect(signed.reading).toMatchObject({ deviceId: 'urn:epc:id:giai:0614141.TH-0042', organizationId: 'org1', keyId: device.keyId, sequence: 3 });
    expect(Date.parse(signed.reading.observedAt)).toBeGreaterThanOrEqual(before - 1);
    expect(signed.signature).toMatchObject({ algorithm: 'ecdsa-p256', keyId: device.keyId });
    expect(verifyTelemetrySignature(signed, device.publicKey, nodeVerify)).toBe(true);
    expect(verifyTelemetrySignature({ ...signed, reading: { ...signed.reading, sequence: 4 } }, device.publicKey, nodeVerify)).toBe(false);
    expect(verifyTelemetrySignature(signed, generateKey({ organizationId: 'org1', algorithm: 'ecdsa-p256' }).publicKey)).toBe(false);
  });

  it('an explicit time and organization; malformed readings fail with the protocol code', () => {
    const device = generateKey({ organizationId: 'org1' });
    const signed = signTelemetry({ algorithm: device.algorithm, privateKey: device.privateKey }, { deviceId: 'did:web:plant.example.com:press-7', organizationId: 'org2', observedAt: new Date('2026-12-02T08:00:00Z'), readings: [{ type: 'RelativeHumidity', value: 43, uom: 'P1' }] });
    expect(signed.reading).toMatchObject({ organizationId: 'org2', observedAt: '2026-12-02T08:00:00.000Z' });
    expect(signed.reading).not.toHaveProperty('sequence');
    expect(verifyTelemetrySignature(signed, fromHex(Buffer.from(device.publicKey).toString('hex')))).toBe(true);
    expect(codeOf(() => signTelemetry(device, { deviceId: 'x', readings: [{ type: 'Temperature', value: 1.5, uom: 'CEL' }] }))).toBe('PROTOCOL.MALFORMED_TELEMETRY');
    expect(codeOf(() => signTelemetry(device, { deviceId: 'x', observedAt: '2026-12-02 08:00', readings: [{ type: 'Temperature', value: 1, uom: 'CEL' }] }))).toBe('PROTOCOL.MALFORMED_TELEMETRY');
    expect(codeOf(() => signTelemetry({ algorithm: device.algorithm, privateKey: device.privateKey }, { deviceId: 'x', readings: [{ type: 'Temperature', value: 1, uom: 'CEL' }] }))).toBe('SDK.INVALID_ARGUMENT');
  });
});
