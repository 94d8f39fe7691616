import { SIGNATURE_ALGORITHMS, fromHex, keyId, publicKeyOf, toHex } from '@alliance/protocol';
import { describe, expect, it } from 'vitest';
import { AllianceSdkError, EncryptedKeyFile, SdkErrorCode, deriveKeyFileSecret, encryptKey, generateKey, importKey, keyFileInfo, plainKeyFile, readKeyFile } from './index';
import { rejection } from './test/rejection';

// Small scrypt cost for the round trips; the default (2^17) is exercised once.
const FAST = { n: 1024, r: 8, p: 1 };


describe('keys', () => {
  it('generates keys of every algorithm whose keyId is the protocol keyId', () => {
    for (const algorithm of SIGNATURE_ALGORITHMS) {
      const key = generateKey({ organizationId: 'org1', algorithm });
      expect(key.algorithm).toBe(algorithm);
      expect(toHex(publicKeyOf(algorithm, key.privateKey))).toBe(toHex(key.publicKey));
      expect(key.keyId).toBe(keyId(algorithm, key.publicKey));
    }
    expect(() => generateKey({ organizationId: 'Org 1' })).toThrow(AllianceSdkError);
    expect(() => generateKey({ organizationId: 'org1', algorithm: 'rsa' as never })).toThrow(/unsupported algorithm/);
  });

  it('imports a key from hex (RFC 8032 TEST 1)', () => {
    const key = importKey({ organizationId: 'org1', algorithm: 'ed25519', privateKey: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60' });
    expect(toHex(key.publicKey)).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    expect(key.keyId).toBe('40302329e41f3cc765c446cc3902ec77');
  });
});

describe('encrypted key files', () => {
  it('round-trips every algorithm through JSON text', async () => {
    for (const algorithm of SIGNATURE_ALGORITHMS) {
      const key = generateKey({ organizationId: 'org2', algorithm });
      const file = await encryptKey(key, 'correct horse battery staple', { scrypt: FAST });
      const text = JSON.stringify(file, null, 2);
      expect(text).not.toContain(toHex(key.privateKey));
      expect(keyFileInfo(text)).toMatchObject({ organizationId: 'org2', algorithm, keyId: key.keyId, encrypted: true });
      const opened = await readKeyFile(text, 'correct horse battery staple');
      expect(toHex(opened.privateKey)).toBe(toHex(key.privateKey));
      expect(opened.keyId).toBe(key.keyId);
    }
  });

  it('has the documented format', async () => {
    const key = generateKey({ organizationId: 'org1' });
    const file = await encryptKey(key, 'pw', { scrypt: FAST, createdAt: new Date('2026-11-25T20:00:00.000Z') });
    expect(Object.keys(file).sort()).toEqual(['algorithm', 'createdAt', 'crypto', 'format', 'keyId', 'organizationId', 'publicKey', 'version']);
    expect(file).toMatchObject({ format: 'alliance-key', version: 1, organizationId: 'org1', algorithm: 'ed25519', keyId: key.keyId, createdAt: '2026-11-25T20:00:00.000Z' });
    expect(file.crypto).toMatchObject({ kdf: 'scrypt', kdfParams: { n: 1024, r: 8, p: 1 }, cipher: 'aes-256-gcm' });
    expect(file.crypto.kdfParams.salt).toMatch(/^[0-9a-f]{64}$/);
    expect(file.crypto.nonce).toMatch(/^[0-9a-f]{24}$/);
    expect(file.crypto.ciphertext).toMatch(/^[0-9a-f]{96}$/);
    expect(file.crypto.passphraseCheck).toMatch(/^[0-9a-f]{32}$/);
  });

  it('uses scrypt N=2^17, r=8, p=1 by default', async () => {
    const key = generateKey({ organizationId: 'org1' });
    const file = await encryptKey(key, 'default cost');
    expect(file.crypto.kdfParams).toMatchObject({ n: 131072, r: 8, p: 1 });
    expect(toHex((await readKeyFile(file, 'default cost')).privateKey)).toBe(toHex(key.privateKey));
  }, 30_000);

  it('says "wrong passphrase" for a wrong passphrase, and asks for one when none is given', async () => {
    const file = await encryptKey(generateKey({ organizationId: 'org1' }), 'right', { scrypt: FAST });
    const wrong = await rejection(readKeyFile(file, 'wrong'));
    expect(wrong.code).toBe(SdkErrorCode.WRONG_PASSPHRASE);
    expect(wrong.message).toMatch(/wrong passphrase/);
    expect((await rejection(readKeyFile(file))).code).toBe(SdkErrorCode.PASSPHRASE_REQUIRED);
    expect((await rejection(readKeyFile(file, ''))).code).toBe(SdkErrorCode.PASSPHRASE_REQUIRED);
  });

  it('normalizes the passphrase (NFKC), so the same words typed on another keyboard open the file', async () => {
    const file = await encryptKey(generateKey({ organizationId: 'org1' }), 'caf\u00e9', { scrypt: FAST });
    await expect(readKeyFile(file, 'cafe\u0301')).resolves.toBeDefined();
  });

  it('detects a tampered file: changed public key, organization, key id, ciphertext, nonce, kdf parameters', async () => {
    const key = generateKey({ organizationId: 'org1' });
    const other = generateKey({ organizationId: 'org1' });
    const file = await encryptKey(key, 'pw', { scrypt: FAST });
    const flip = (hex: string) => (hex[0] === '0' ? '1' : '0') + hex.slice(1);
    const variants: Array<[string, EncryptedKeyFile, string]> = [
      ['organization', { ...file, organizationId: 'org2' }, SdkErrorCode.KEY_FILE_TAMPERED],
      ['public key and key id', { ...file, publicKey: toHex(other.publicKey), keyId: other.keyId }, SdkErrorCode.KEY_FILE_TAMPERED],
      ['createdAt', { ...file, createdAt: '2020-01-01T00:00:00.000Z' }, SdkErrorCode.KEY_FILE_TAMPERED],
      ['ciphertext', { ...file, crypto: { ...file.crypto, ciphertext: flip(file.crypto.ciphertext) } }, SdkErrorCode.KEY_FILE_TAMPERED],
      ['tag', { ...file, crypto: { ...file.crypto, ciphertext: file.crypto.ciphertext.slice(0, -1) + (file.crypto.ciphertext.endsWith('0') ? '1' : '0') } }, SdkErrorCode.KEY_FILE_TAMPERED],
      ['nonce', { ...file, crypto: { ...file.crypto, nonce: flip(file.crypto.nonce) } }, SdkErrorCode.KEY_FILE_TAMPERED],
      ['salt', { ...file, crypto: { ...file.crypto, kdfParams: { ...file.crypto.kdfParams, salt: flip(file.crypto.kdfParams.salt) } } }, SdkErrorCode.WRONG_PASSPHRASE],
      ['passphrase check', { ...file, crypto: { ...file.crypto, passphraseCheck: flip(file.crypto.passphraseCheck) } }, SdkErrorCode.WRONG_PASSPHRASE],
      ['scrypt cost', { ...file, crypto: { ...file.crypto, kdfParams: { ...file.crypto.kdfParams, n: 2048 } } }, SdkErrorCode.WRONG_PASSPHRASE],
    ];
    for (const [what, variant, code] of variants) {
      const error = await rejection(readKeyFile(JSON.stringify(variant), 'pw'));
      expect(error.code, what).toBe(code);
    }
    // The untouched file still opens.
    expect((await readKeyFile(JSON.stringify(file), 'pw')).keyId).toBe(key.keyId);
  });

  it('flipping any single character of the file text never yields a key silently', async () => {
    const key = generateKey({ organizationId: 'org1' });
    const text = JSON.stringify(await encryptKey(key, 'pw', { scrypt: FAST }));
    let rejected = 0;
    for (let i = 0; i < text.length; i += 7) {
      const changed = text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ 1) + text.slice(i + 1);
      try {
        const opened = await readKeyFile(changed, 'pw');
        // Only a change JSON does not see (e.g. whitespace) may still open, and then to the same key.
        expect(toHex(opened.privateKey)).toBe(toHex(key.privateKey));
        expect(JSON.parse(changed)).toEqual(JSON.parse(text));
      } catch (error) {
        expect(error).toBeInstanceOf(AllianceSdkError);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(0);
  });

  it('rejects malformed files and key files that ask for absurd scrypt costs', async () => {
    const file = await encryptKey(generateKey({ organizationId: 'org1' }), 'pw', { scrypt: FAST });
    const malformed: unknown[] = [
      'not json',
      '[]',
      {},
      { ...file, version: 2 },
      { ...file, extra: true },
      { ...file, crypto: { ...file.crypto, cipher: 'aes-128-cbc' } },
      { ...file, crypto: { ...file.crypto, kdfParams: { ...file.crypto.kdfParams, n: 2 ** 30 } } },
      { ...file, crypto: { ...file.crypto, kdfParams: { ...file.crypto.kdfParams, n: 1000 } } },
      { ...file, crypto: { ...file.crypto, kdfParams: { ...file.crypto.kdfParams, r: 1024 } } },
      { ...file, keyId: '0'.repeat(32) },
      { ...file, publicKey: 'zz' },
    ];
    for (const value of malformed) expect((await rejection(readKeyFile(value, 'pw'))).code).toBe(SdkErrorCode.MALFORMED_KEY_FILE);
  });

  it('reads unencrypted files and the demo key files of npm start', async () => {
    const key = generateKey({ organizationId: 'org3' });
    const plain = plainKeyFile(key);
    expect(plain.warning).toMatch(/UNENCRYPTED/);
    expect(keyFileInfo(plain).encrypted).toBe(false);
    expect(toHex((await readKeyFile(JSON.stringify(plain))).privateKey)).toBe(toHex(key.privateKey));
    const demo = {
      warning: 'DEMO KEY - generated by `npm start` for the demo consortium; never use it in production',
      organizationId: 'org1',
      algorithm: 'ed25519',
      publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
      privateKey: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
      createdAt: '2026-11-25T20:00:00.000Z',
    };
    expect((await readKeyFile(demo)).keyId).toBe('40302329e41f3cc765c446cc3902ec77');
    const mismatched = { ...demo, publicKey: toHex(generateKey({ organizationId: 'org1' }).publicKey) };
    expect((await rejection(readKeyFile(mismatched))).code).toBe(SdkErrorCode.MALFORMED_KEY_FILE);
  });

  it('node:crypto and the portable scrypt derive identical bytes', async () => {
    const salt = fromHex('00'.repeat(31) + '01');
    const native = await deriveKeyFileSecret('pässword', salt, FAST);
    const portable = await deriveKeyFileSecret('pässword', salt, FAST, { portable: true });
    expect(toHex(native)).toBe(toHex(portable));
    expect(native.length).toBe(64);
  });

  it('is scrypt: RFC 7914 §12 test vector ("password", "NaCl", N=1024, r=8, p=16), both implementations', async () => {
    const expected =
      'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640';
    const salt = new TextEncoder().encode('NaCl');
    const params = { n: 1024, r: 8, p: 16 };
    expect(toHex(await deriveKeyFileSecret('password', salt, params))).toBe(expected);
    expect(toHex(await deriveKeyFileSecret('password', salt, params, { portable: true }))).toBe(expected);
  });
});
