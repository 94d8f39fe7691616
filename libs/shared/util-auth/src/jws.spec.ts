import { createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { AllianceError } from '@alliance/shared/util-errors';
import { describe, expect, it } from 'vitest';
import {
  AuthErrorCodes,
  hashToken,
  jwkThumbprint,
  keyObjectFromJwk,
  privateKeyFromJwk,
  publicJwkOf,
  randomToken,
  signCompact,
  signJwt,
  verifyCompact,
  verifyJwt,
  type Jwks,
  type VerifyJwtOptions,
} from './index';

// RFC 8037 Appendix A.
const RFC_D = 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A';
const RFC_X = '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo';
const RFC_THUMBPRINT = 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k';
const RFC_JWS =
  'eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg';

const NOW = new Date('2030-01-01T00:00:00Z');
const NOW_S = NOW.getTime() / 1000;

function keyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ed25519');
}

const main = keyPair();
const other = keyPair();
const keys = (kid: string) => (kid === 'k1' ? main.publicKey : undefined);
const options: VerifyJwtOptions = { keys, now: NOW };

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { sub: 'user-1', iat: NOW_S - 10, exp: NOW_S + 300, ...extra };
}

function token(extra: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string {
  return signJwt(claims(extra), { kid: 'k1', privateKey: main.privateKey }, header);
}

function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8').toString('base64url');
}

/** A token whose header and payload are chosen freely, signed correctly with the main key. */
function forged(header: unknown, payload: unknown): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign(null, Buffer.from(input), main.privateKey).toString('base64url')}`;
}

function errorOf(run: () => unknown): AllianceError {
  try {
    run();
  } catch (e) {
    if (e instanceof AllianceError) return e;
    throw e;
  }
  throw new Error('expected an AllianceError, nothing was thrown');
}

function expectCode(run: () => unknown, code: string): AllianceError {
  const error = errorOf(run);
  expect(error.code).toBe(code);
  expect(error.kind).toBe('unauthenticated');
  expect(error.status).toBe(401);
  return error;
}

describe('RFC 8037 Appendix A vectors', () => {
  const privateKey = privateKeyFromJwk({ kty: 'OKP', crv: 'Ed25519', d: RFC_D, x: RFC_X });

  it('A.1: the private key d has the public key x', () => {
    expect(publicJwkOf(privateKey, 'rfc')).toEqual({ kty: 'OKP', crv: 'Ed25519', x: RFC_X, kid: 'rfc', alg: 'EdDSA', use: 'sig' });
    expect(createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: RFC_D, x: RFC_X }, format: 'jwk' }).asymmetricKeyType).toBe('ed25519');
  });

  it('A.2: the JWK thumbprint', () => {
    expect(jwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: RFC_X })).toBe(RFC_THUMBPRINT);
    // Members other than crv, kty and x do not change it.
    expect(jwkThumbprint(publicJwkOf(privateKey, 'any-kid'))).toBe(RFC_THUMBPRINT);
  });

  it('A.4: signs "Example of Ed25519 signing" to the exact JWS and verifies it (A.5)', () => {
    const jws = signCompact({ alg: 'EdDSA' }, Buffer.from('Example of Ed25519 signing', 'utf8'), privateKey);
    expect(jws).toBe(RFC_JWS);
    // The private JWK is accepted as is, too.
    expect(signCompact({ alg: 'EdDSA' }, Buffer.from('Example of Ed25519 signing'), { kty: 'OKP', crv: 'Ed25519', d: RFC_D, x: RFC_X })).toBe(RFC_JWS);
    const verified = verifyCompact(RFC_JWS, keyObjectFromJwk({ kty: 'OKP', crv: 'Ed25519', x: RFC_X }));
    expect(verified.header).toEqual({ alg: 'EdDSA' });
    expect(verified.payload.toString('utf8')).toBe('Example of Ed25519 signing');
  });

  it('A.4 with one byte of the signature changed does not verify', () => {
    const publicKey = keyObjectFromJwk({ kty: 'OKP', crv: 'Ed25519', x: RFC_X });
    const tampered = RFC_JWS.replace(/\.hgyY/, '.hgyZ');
    expectCode(() => verifyCompact(tampered, publicKey), AuthErrorCodes.signature);
  });
});

describe('signJwt / verifyJwt', () => {
  it('round trips header and claims', () => {
    const jwt = token({ iss: 'alliance-identity', aud: ['ledger', 'gateway'], roles: ['admin'] });
    const [header] = jwt.split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString('utf8'))).toEqual({ alg: 'EdDSA', typ: 'JWT', kid: 'k1' });
    const verified = verifyJwt(jwt, { ...options, issuer: 'alliance-identity', audience: 'gateway' });
    expect(verified.header).toEqual({ alg: 'EdDSA', typ: 'JWT', kid: 'k1' });
    expect(verified.claims).toEqual(claims({ iss: 'alliance-identity', aud: ['ledger', 'gateway'], roles: ['admin'] }));
  });

  it('takes header extras and a private JWK, and keeps alg/kid/crit out of the extras', () => {
    const jwk = { ...main.privateKey.export({ format: 'jwk' }) } as { kty: 'OKP'; crv: 'Ed25519'; x: string; d: string };
    const jwt = signJwt(claims(), { kid: 'k1', privateKey: jwk }, { typ: 'at+jwt', cty: 'x' });
    expect(verifyJwt(jwt, options).header).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: 'k1', cty: 'x' });
    expect(() => token({}, { alg: 'none' })).toThrow(/alg/);
    expect(() => token({}, { kid: 'k2' })).toThrow(/kid/);
    expect(() => token({}, { crit: ['exp'] })).toThrow(/crit/);
  });

  it('refuses to sign without an integer exp', () => {
    expect(() => signJwt({ sub: 'x' }, { kid: 'k1', privateKey: main.privateKey })).toThrow(/exp/);
    expect(() => signJwt({ exp: NOW_S + 0.5 }, { kid: 'k1', privateKey: main.privateKey })).toThrow(/exp/);
    expect(() => signJwt({ exp: NOW_S, nbf: '1' }, { kid: 'k1', privateKey: main.privateKey })).toThrow(/nbf/);
  });

  it('refuses a public key or a non-Ed25519 key for signing', () => {
    expect(() => signJwt(claims(), { kid: 'k1', privateKey: main.publicKey })).toThrow(/private/);
    const { privateKey: ec } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => signJwt(claims(), { kid: 'k1', privateKey: ec })).toThrow(/Ed25519/);
  });

  it('TOKEN_SIGNATURE: a tampered payload, a tampered signature, a signature by another key, a short signature', () => {
    const [h, p, s] = token().split('.') as [string, string, string];
    const otherPayload = b64(claims({ sub: 'user-2' }));
    expectCode(() => verifyJwt(`${h}.${otherPayload}.${s}`, options), AuthErrorCodes.signature);

    const sig = Buffer.from(s, 'base64url');
    sig[10] = sig[10]! ^ 1;
    expectCode(() => verifyJwt(`${h}.${p}.${sig.toString('base64url')}`, options), AuthErrorCodes.signature);

    const byOther = signJwt(claims(), { kid: 'k1', privateKey: other.privateKey });
    expectCode(() => verifyJwt(byOther, options), AuthErrorCodes.signature);

    const short = Buffer.from(s, 'base64url').subarray(0, 63).toString('base64url');
    const error = expectCode(() => verifyJwt(`${h}.${p}.${short}`, options), AuthErrorCodes.signature);
    expect(error.details).toEqual({ length: 63 });
    expectCode(() => verifyJwt(`${h}.${p}.`, options), AuthErrorCodes.signature);
  });

  it('TOKEN_ALGORITHM: alg none, HS256, a missing alg, a crit header', () => {
    const payload = claims();
    expectCode(() => verifyJwt(`${b64({ alg: 'none', kid: 'k1' })}.${b64(payload)}.`, options), AuthErrorCodes.algorithm);
    expectCode(() => verifyJwt(forged({ alg: 'none', kid: 'k1' }, payload), options), AuthErrorCodes.algorithm);
    expectCode(() => verifyJwt(forged({ alg: 'HS256', typ: 'JWT', kid: 'k1' }, payload), options), AuthErrorCodes.algorithm);
    expectCode(() => verifyJwt(forged({ alg: 'eddsa', kid: 'k1' }, payload), options), AuthErrorCodes.algorithm);
    expectCode(() => verifyJwt(forged({ kid: 'k1' }, payload), options), AuthErrorCodes.algorithm);
    expectCode(() => verifyJwt(forged({ alg: 'EdDSA', kid: 'k1', crit: ['x'], x: 1 }, payload), options), AuthErrorCodes.algorithm);
    // The control: the same forging helper makes an acceptable token.
    expect(verifyJwt(forged({ alg: 'EdDSA', kid: 'k1' }, payload), options).claims).toEqual(payload);
  });

  it('TOKEN_KEY_UNKNOWN: no kid, an empty kid, an unknown kid, a kid resolving to a non-Ed25519 key', () => {
    expectCode(() => verifyJwt(forged({ alg: 'EdDSA' }, claims()), options), AuthErrorCodes.keyUnknown);
    expectCode(() => verifyJwt(forged({ alg: 'EdDSA', kid: '' }, claims()), options), AuthErrorCodes.keyUnknown);
    expectCode(() => verifyJwt(forged({ alg: 'EdDSA', kid: 7 }, claims()), options), AuthErrorCodes.keyUnknown);
    const unknown = signJwt(claims(), { kid: 'k2', privateKey: main.privateKey });
    expect(expectCode(() => verifyJwt(unknown, options), AuthErrorCodes.keyUnknown).details).toEqual({ kid: 'k2' });
    const { publicKey: ec } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expectCode(() => verifyJwt(token(), { ...options, keys: () => ec }), AuthErrorCodes.keyUnknown);
  });

  it('TOKEN_EXPIRED: exp in the past beyond the skew, exp missing or not an integer', () => {
    expectCode(() => verifyJwt(token({ exp: NOW_S - 6 }), options), AuthErrorCodes.expired);
    // exp <= now - skew is expired; within the skew it is still accepted.
    expectCode(() => verifyJwt(token({ exp: NOW_S - 5 }), options), AuthErrorCodes.expired);
    expect(verifyJwt(token({ exp: NOW_S - 4 }), options).claims['exp']).toBe(NOW_S - 4);
    expectCode(() => verifyJwt(token({ exp: NOW_S - 1 }), { ...options, clockSkewSeconds: 0 }), AuthErrorCodes.expired);
    expectCode(() => verifyJwt(token({ exp: NOW_S }), { ...options, clockSkewSeconds: 0 }), AuthErrorCodes.expired);
    expect(verifyJwt(token({ exp: NOW_S + 1 }), { ...options, clockSkewSeconds: 0 }).claims['exp']).toBe(NOW_S + 1);

    const { exp: _exp, ...noExp } = claims();
    expectCode(() => verifyJwt(forged({ alg: 'EdDSA', kid: 'k1' }, noExp), options), AuthErrorCodes.expired);
    expectCode(() => verifyJwt(forged({ alg: 'EdDSA', kid: 'k1' }, claims({ exp: NOW_S + 300.5 })), options), AuthErrorCodes.expired);
    expectCode(() => verifyJwt(forged({ alg: 'EdDSA', kid: 'k1' }, claims({ exp: String(NOW_S + 300) })), options), AuthErrorCodes.expired);
  });

  it('TOKEN_NOT_YET_VALID: nbf or iat in the future beyond the skew', () => {
    expectCode(() => verifyJwt(token({ nbf: NOW_S + 6 }), options), AuthErrorCodes.notYetValid);
    expect(verifyJwt(token({ nbf: NOW_S + 5 }), options).claims['nbf']).toBe(NOW_S + 5);
    expectCode(() => verifyJwt(token({ iat: NOW_S + 60 }), options), AuthErrorCodes.notYetValid);
    expectCode(() => verifyJwt(token({ nbf: NOW_S + 1 }), { ...options, clockSkewSeconds: 0 }), AuthErrorCodes.notYetValid);
    expectCode(() => verifyJwt(forged({ alg: 'EdDSA', kid: 'k1' }, claims({ nbf: 'soon' })), options), AuthErrorCodes.claims);
  });

  it('TOKEN_CLAIMS: wrong issuer, wrong or missing audience', () => {
    const jwt = token({ iss: 'alliance-identity', aud: 'ledger' });
    expectCode(() => verifyJwt(jwt, { ...options, issuer: 'someone-else' }), AuthErrorCodes.claims);
    expectCode(() => verifyJwt(jwt, { ...options, audience: 'gateway' }), AuthErrorCodes.claims);
    expectCode(() => verifyJwt(token({ aud: ['ledger', 'finance'] }), { ...options, audience: 'gateway' }), AuthErrorCodes.claims);
    expectCode(() => verifyJwt(token(), { ...options, audience: 'ledger' }), AuthErrorCodes.claims);
    expectCode(() => verifyJwt(token(), { ...options, issuer: 'alliance-identity' }), AuthErrorCodes.claims);
    expect(verifyJwt(jwt, { ...options, issuer: 'alliance-identity', audience: 'ledger' }).claims['aud']).toBe('ledger');
    expect(verifyJwt(token({ aud: ['ledger', 'finance'] }), { ...options, audience: 'finance' }).claims['sub']).toBe('user-1');
  });

  it('TOKEN_MALFORMED: part count, padding, non-url alphabet, bad JSON, header not an object, payload not an object, oversize', () => {
    const jwt = token();
    const [h, p, s] = jwt.split('.') as [string, string, string];
    expectCode(() => verifyJwt(`${h}.${p}`, options), AuthErrorCodes.malformed);
    expectCode(() => verifyJwt(`${jwt}.x`, options), AuthErrorCodes.malformed);
    expectCode(() => verifyJwt('', options), AuthErrorCodes.malformed);
    expectCode(() => verifyJwt(42 as unknown as string, options), AuthErrorCodes.malformed);

    // Padding: the header {"alg":"EdDSA","typ":"JWT","kid":"k1"} is 40 bytes, so its standard base64 ends in "=".
    expect(Buffer.from(h, 'base64url').length % 3).not.toBe(0);
    const padded = Buffer.from(h, 'base64url').toString('base64');
    expect(padded.endsWith('=')).toBe(true);
    expectCode(() => verifyJwt(`${h}=.${p}.${s}`, options), AuthErrorCodes.malformed);
    expectCode(() => verifyJwt(`${h}.${p}.${s}==`, options), AuthErrorCodes.malformed);
    // Standard alphabet (+ and /) instead of the url one.
    expectCode(() => verifyJwt(`${h}.${p}.+${s.slice(1)}`, options), AuthErrorCodes.malformed);
    expectCode(() => verifyJwt(`${h}.${p}./${s.slice(1)}`, options), AuthErrorCodes.malformed);
    expectCode(() => verifyJwt(`${h}.${p} .${s}`, options), AuthErrorCodes.malformed);
    // A non-canonical last character (unused bits set) is refused too.
    const last = h.at(-1)!;
    const sibling = last === 'A' ? 'B' : String.fromCharCode(last.charCodeAt(0) ^ 1);
    expect(Buffer.from(`${h.slice(0, -1)}${sibling}`, 'base64url').equals(Buffer.from(h, 'base64url'))).toBe(true);
    expectCode(() => verifyJwt(`${h.slice(0, -1)}${sibling}.${p}.${s}`, options), AuthErrorCodes.malformed);

    expectCode(() => verifyJwt(`${b64('{"alg":"EdDSA",')}.${p}.${s}`, options), AuthErrorCodes.malformed);
    expectCode(() => verifyJwt(`${b64(['EdDSA'])}.${p}.${s}`, options), AuthErrorCodes.malformed);
    expectCode(() => verifyJwt(`${b64('null')}.${p}.${s}`, options), AuthErrorCodes.malformed);
    expectCode(() => verifyJwt(`.${p}.${s}`, options), AuthErrorCodes.malformed);
    expectCode(() => verifyJwt(forged({ alg: 'EdDSA', kid: 'k1' }, 'not json'), options), AuthErrorCodes.malformed);
    expectCode(() => verifyJwt(forged({ alg: 'EdDSA', kid: 'k1' }, [1, 2]), options), AuthErrorCodes.malformed);

    const big = token({ pad: 'x'.repeat(9000) });
    expect(big.length).toBeGreaterThan(8192);
    const error = expectCode(() => verifyJwt(big, options), AuthErrorCodes.malformed);
    expect(error.details['maxTokenLength']).toBe(8192);
    expect(verifyJwt(big, { ...options, maxTokenLength: 20_000 }).claims['sub']).toBe('user-1');
    expectCode(() => verifyJwt(jwt, { ...options, maxTokenLength: jwt.length - 1 }), AuthErrorCodes.malformed);
    expect(verifyJwt(jwt, { ...options, maxTokenLength: jwt.length }).claims['sub']).toBe('user-1');
  });

  it('refuses bad options as programming errors, not token errors', () => {
    expect(() => verifyJwt(token(), { ...options, now: new Date('nope') })).toThrow(TypeError);
    expect(() => verifyJwt(token(), { ...options, clockSkewSeconds: -1 })).toThrow(TypeError);
    expect(() => verifyJwt(token(), { ...options, maxTokenLength: 0 })).toThrow(TypeError);
  });
});

describe('JWK helpers', () => {
  it('publicJwkOf gives the same JWK for the private and the public key, and keyObjectFromJwk reads it back', () => {
    const jwk = publicJwkOf(main.privateKey, 'k1');
    expect(publicJwkOf(main.publicKey, 'k1')).toEqual(jwk);
    expect(jwk).toEqual({ kty: 'OKP', crv: 'Ed25519', x: main.publicKey.export({ format: 'jwk' }).x, kid: 'k1', alg: 'EdDSA', use: 'sig' });
    const jwks: Jwks = { keys: [jwk, publicJwkOf(other.publicKey, 'k2')] };
    const byKid = (kid: string) => {
      const found = jwks.keys.find((k) => k.kid === kid);
      return found && keyObjectFromJwk(found);
    };
    expect(verifyJwt(token(), { keys: byKid, now: NOW }).claims['sub']).toBe('user-1');
    expect(keyObjectFromJwk(jwk).equals(main.publicKey)).toBe(true);
    expect(jwkThumbprint(jwk)).not.toBe(jwkThumbprint(jwks.keys[1]));
  });

  it('keyObjectFromJwk accepts only OKP / Ed25519 with a 32-byte x', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    const cases: unknown[] = [
      rsa,
      { kty: 'OKP', crv: 'X25519', x: RFC_X },
      { kty: 'OKP', crv: 'Ed448', x: RFC_X },
      { kty: 'EC', crv: 'Ed25519', x: RFC_X },
      { kty: 'OKP', crv: 'Ed25519' },
      { kty: 'OKP', crv: 'Ed25519', x: RFC_X.slice(0, -2) },
      { kty: 'OKP', crv: 'Ed25519', x: `${RFC_X}=` },
      { kty: 'OKP', crv: 'Ed25519', x: RFC_X, alg: 'ES256' },
      { kty: 'OKP', crv: 'Ed25519', x: RFC_X, use: 'enc' },
      null,
      'jwk',
    ];
    for (const jwk of cases) {
      const error = errorOf(() => keyObjectFromJwk(jwk));
      expect(error.code).toBe('AUTH.KEY_INVALID');
      expect(error.status).toBe(400);
    }
    expect(errorOf(() => jwkThumbprint(rsa)).code).toBe('AUTH.KEY_INVALID');
  });

  it('privateKeyFromJwk refuses an x that is not the public key of d', () => {
    expect(errorOf(() => privateKeyFromJwk({ kty: 'OKP', crv: 'Ed25519', d: RFC_D, x: publicJwkOf(main.publicKey, 'k').x })).message).toMatch(/not the public key/);
    expect(errorOf(() => privateKeyFromJwk({ kty: 'OKP', crv: 'Ed25519', x: RFC_X })).message).toMatch(/"d"/);
  });
});

describe('hashToken / randomToken', () => {
  it('hashToken is the hex SHA-256 of the secret', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashToken('abd')).not.toBe(hashToken('abc'));
    expect(() => hashToken('')).toThrow();
  });

  it('randomToken is unpadded base64url of the requested number of fresh bytes', () => {
    const a = randomToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, 'base64url').length).toBe(32);
    expect(randomToken()).not.toBe(a);
    expect(Buffer.from(randomToken(48), 'base64url').length).toBe(48);
    expect(() => randomToken(8)).toThrow(RangeError);
    expect(() => randomToken(2.5)).toThrow(RangeError);
  });
});
