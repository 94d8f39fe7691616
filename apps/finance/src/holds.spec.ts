import { describe, expect, it } from 'vitest';
import { generateKeyPair, toHex } from '@alliance/protocol';
import { HoldErrors, signalKeysOf } from './holds';

describe('FINANCE_SIGNAL_KEYS', () => {
  const ed = generateKeyPair('ed25519');
  const p256 = generateKeyPair('ecdsa-p256');
  const own = [{ organizationId: 'org1', algorithm: 'ed25519' as const, publicKey: ed.publicKey }];

  it('unset or blank: the finance service’s own key', () => {
    expect(signalKeysOf(undefined, 'org1', own)).toEqual(own);
    expect(signalKeysOf('  ', 'org1', own)).toEqual(own);
  });

  it('reads comma-separated <algorithm>:<public key hex> as keys of the organization', () => {
    expect(signalKeysOf(` ed25519:${toHex(ed.publicKey)}, ecdsa-p256:${toHex(p256.publicKey)}`, 'org1', [])).toEqual([
      { organizationId: 'org1', algorithm: 'ed25519', publicKey: ed.publicKey },
      { organizationId: 'org1', algorithm: 'ecdsa-p256', publicKey: p256.publicKey },
    ]);
  });

  it('stops the service on a malformed entry, naming the setting', () => {
    for (const bad of ['ed25519', `rsa:${toHex(ed.publicKey)}`, 'ed25519:abc', `ecdsa-p256:${toHex(ed.publicKey)}`, `ed25519:${toHex(ed.publicKey)}zz`]) {
      expect(() => signalKeysOf(bad, 'org1', own), bad).toThrow(/^FINANCE_SIGNAL_KEYS: /);
    }
  });

  it('refuses an unsealed signal as invalid (dead-lettered at once), naming the event', () => {
    const error = HoldErrors.unsealedSignal({ eventId: 'e-1', topic: 'provenance.alert.raised.v1' } as never, 'the event carries no seal');
    expect(error).toMatchObject({ code: 'FINANCE.UNSEALED_SIGNAL', kind: 'invalid', message: 'provenance.alert.raised.v1 event e-1 is not kept: the event carries no seal' });
  });
});
