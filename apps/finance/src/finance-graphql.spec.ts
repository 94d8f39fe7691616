import { describe, expect, it } from 'vitest';
import { telemetryOfLease } from './finance-graphql';

describe('FinanceLease.telemetry', () => {
  const asset = { item: 'https://id.gs1.org/8004/0614141EXC7', deviceId: 'urn:epc:id:giai:0614141.EXC7', deviceOrganization: 'org1' };

  it('is the AssetTelemetry key of the lease: its device and leased item, for the gateway to resolve in provenance', () => {
    expect(telemetryOfLease({ asset })).toEqual({ deviceId: 'urn:epc:id:giai:0614141.EXC7', item: 'https://id.gs1.org/8004/0614141EXC7' });
  });

  it('is null when the lease names no device', () => {
    expect(telemetryOfLease({ asset: { ...asset, deviceId: '' } })).toBeNull();
  });
});
