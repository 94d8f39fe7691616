import { fromHex, type SignedTelemetry, toBase64Url, utf8, validateSignedTelemetry, type Verifier, verifyTelemetrySignature } from '@alliance/protocol';
import { deviceKeyIndexOf, exactFields, parseNewKey, reject } from './agent-keys';
import { CONFIG_KEY } from './config';
import { mayActWith } from './roles';
import type { ChainConfig, ContractContext, ContractHandler, ContractOutcome, JsonValue, StateView } from './types';

/**
 * Devices (issue 4, third part): an organization registers its industrial
 * devices — a GS1 GIAI or a DID, a model, a public key the device holds
 * itself — binds them to assets and locations, suspends, reactivates and
 * retires them. Only an active device's key signs telemetry that counts
 * (`verifyDeviceTelemetry`). Every change writes the device's record, so its
 * state at block n is the value of its key as of block n. State:
 *
 *   identity/device/<organizationId>/<b64u(deviceId)> → Device
 *   identity/device-id/<b64u(identity)>               → { organizationId, deviceId }
 *   identity/device-key/<keyId>                       → { organizationId, deviceId }
 *
 * b64u = base64url without padding of the UTF-8 bytes (device ids contain ':'
 * and '/'). The device-id index makes an identity unique on the chain: for a
 * GIAI it is `giai:` + the GIAI element string (AI 8004, company prefix and
 * asset reference without the dot), for a DID the DID — so the same asset
 * cannot be registered twice, by two organizations or with the dot elsewhere.
 */
export type DeviceStatus = 'active' | 'suspended' | 'retired';

export interface Device {
  readonly organizationId: string;
  /** The one stored form: `urn:epc:id:giai:<companyPrefix>.<assetRef>` or `did:<method>:<id>`. */
  readonly deviceId: string;
  readonly model: string;
  readonly key: { readonly keyId: string; readonly algorithm: string; readonly publicKey: string };
  readonly status: DeviceStatus;
  /** EPC pure-identity URNs (sorted). */
  readonly assets: readonly string[];
  /** SGLN URNs (sorted). */
  readonly locations: readonly string[];
  readonly registeredAtBlock: number;
  readonly statusChangedAtBlock: number;
  readonly statusReason: string | null;
}

/** The permission an agent needs to manage its organization's devices (admin keys need none). */
export const DEVICE_MANAGE_PERMISSION = 'identity.device.manage';

const b64u = (text: string) => toBase64Url(utf8(text));
export const deviceKeyOf = (organizationId: string, deviceId: string) => `identity/device/${organizationId}/${b64u(deviceId)}`;
export const deviceIdIndexOf = (identity: string) => `identity/device-id/${b64u(identity)}`;

const MAX_BINDINGS = 64;
const MAX_REASON = 500;
const MAX_DEVICE_ID = 128;
/** GS1 AI encodable character set 82, unescaped in an EPC URI (TDS §5: `" % & / < > ?` are %-escaped). */
const URN_CHAR = "[A-Za-z0-9!'()*+,\\-.:;=_]|%(?:22|25|26|2F|3C|3E|3F)";
const GIAI_URN = new RegExp(`^urn:epc:id:giai:([0-9]{6,12})\\.((?:${URN_CHAR})+)$`);
const GIAI_LINK = /^https:\/\/id\.gs1\.org\/8004\/((?:[A-Za-z0-9!&'()*+,\-.:;=_]|%[0-9A-Fa-f]{2})+)$/;
const CSET82 = /^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+$/;
const ID_CHAR = '(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})';
/** W3C DID Core §3.1: did:<method-name>:<method-specific-id>, no path, query or fragment. */
const DID = new RegExp(`^did:[a-z0-9]+:(?:${ID_CHAR}*:)*${ID_CHAR}+$`);
const ASSET = new RegExp(`^urn:epc:id:(?!sgln:)[a-z]+:(?:${URN_CHAR})+$`);
const SGLN = new RegExp(`^urn:epc:id:sgln:([0-9]{6,12})\\.([0-9]{0,6})\\.((?:${URN_CHAR})+)$`);
const MODEL = /^[^\p{Cc}]{1,200}$/u;

const decodeUrn = (text: string) => text.replace(/%([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
const encodeUrn = (text: string) => text.replace(/["%&/<>?]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export type DeviceIdentity =
  | { readonly ok: true; readonly deviceId: string; readonly identity: string }
  | { readonly ok: false; readonly detail: string; readonly link?: { readonly elementString: string } };

/**
 * A device id in its one stored form and its chain-wide identity. Accepted:
 * a GIAI EPC URN (company prefix 6–12 digits, asset reference of GS1 character
 * set 82 with the URI escapes, at most 30 characters together), a GS1 Digital
 * Link `https://id.gs1.org/8004/<GIAI>` — normalised to the URN, which needs
 * `companyPrefixLength` since the link does not say where the prefix ends —
 * or a DID (pct-escapes normalised to upper-case hex). At most 128 characters.
 */
export function normalizeDeviceId(value: unknown, companyPrefixLength?: number): DeviceIdentity {
  if (typeof value !== 'string' || value.length > MAX_DEVICE_ID) return { ok: false, detail: `deviceId must be a string of at most ${MAX_DEVICE_ID} characters` };
  const urn = GIAI_URN.exec(value);
  if (urn) {
    const giai = urn[1] + decodeUrn(urn[2]);
    if (giai.length > 30) return { ok: false, detail: 'a GIAI is at most 30 characters (company prefix and asset reference)' };
    return { ok: true, deviceId: value, identity: `giai:${giai}` };
  }
  const link = GIAI_LINK.exec(value);
  if (link) {
    let giai: string;
    try {
      giai = decodeURIComponent(link[1]);
    } catch {
      return { ok: false, detail: 'the Digital Link GIAI has a bad %-escape' };
    }
    if (!CSET82.test(giai) || giai.length > 30 || !/^[0-9]{7}/.test(giai)) return { ok: false, detail: 'a Digital Link GIAI is a GS1 company prefix (6-12 digits) and an asset reference, at most 30 characters of GS1 character set 82' };
    if (companyPrefixLength === undefined) return { ok: false, detail: 'a GS1 Digital Link does not say where the company prefix ends: give companyPrefixLength (6-12), or the urn:epc:id:giai form', link: { elementString: giai } };
    const prefix = giai.slice(0, companyPrefixLength);
    if (!/^[0-9]{6,12}$/.test(prefix) || giai.length === companyPrefixLength) return { ok: false, detail: `the GIAI has no ${companyPrefixLength}-digit company prefix followed by an asset reference` };
    return { ok: true, deviceId: `urn:epc:id:giai:${prefix}.${encodeUrn(giai.slice(companyPrefixLength))}`, identity: `giai:${giai}` };
  }
  if (DID.test(value)) {
    const did = value.replace(/%([0-9A-Fa-f]{2})/g, (e) => e.toUpperCase());
    return { ok: true, deviceId: did, identity: did };
  }
  return { ok: false, detail: 'deviceId must be a GIAI (urn:epc:id:giai:<companyPrefix>.<assetRef>, or https://id.gs1.org/8004/<giai>) or a DID (did:<method>:<id>)' };
}

/** A registered device's record, found by any accepted form of its id (a Digital Link through the identity index). */
export function findDevice(state: StateView, value: unknown): Device | undefined {
  const id = normalizeDeviceId(value);
  const identity = id.ok ? id.identity : id.link ? `giai:${id.link.elementString}` : undefined;
  if (identity === undefined) return undefined;
  const index = state.get(deviceIdIndexOf(identity))?.value as { organizationId?: string; deviceId?: string } | null | undefined;
  if (!index || typeof index.organizationId !== 'string' || typeof index.deviceId !== 'string') return undefined;
  return (state.get(deviceKeyOf(index.organizationId, index.deviceId))?.value as Device | null | undefined) ?? undefined;
}

/** An admin key of the creator's organization, or one of its agents holding `identity.device.manage` there. */
function mayManageDevices(ctx: ContractContext): ContractOutcome | undefined {
  return mayActWith(ctx, DEVICE_MANAGE_PERMISSION, 'manages its devices');
}

function urnList(value: unknown, pattern: RegExp, what: string, check?: (m: RegExpExecArray) => boolean): string[] | ContractOutcome {
  if (!Array.isArray(value) || value.length > MAX_BINDINGS) return reject('IDENTITY.INVALID', `payload.${what} must be an array of at most ${MAX_BINDINGS}`);
  for (const v of value) {
    const m = typeof v === 'string' && v.length <= 128 ? pattern.exec(v) : null;
    if (!m || (check && !check(m))) return reject('IDENTITY.INVALID', `payload.${what}: ${JSON.stringify(v)} is not ${what === 'assets' ? 'an EPC pure-identity URN (urn:epc:id:sgtin:…, urn:epc:id:giai:…)' : 'an SGLN URN (urn:epc:id:sgln:<companyPrefix>.<locationRef>.<extension>, 12 digits before the extension)'} of at most 128 characters`);
  }
  if (new Set(value).size !== value.length) return reject('IDENTITY.INVALID', `payload.${what} lists an entry twice`);
  return value as string[];
}

const isOutcome = (v: unknown): v is ContractOutcome => typeof v === 'object' && v !== null && 'ok' in v && (v as { ok: unknown }).ok === false;

/** The `assets` and `locations` of a payload, each possibly absent (→ []). */
function bindingsOf(payload: Record<string, unknown>): { assets: string[]; locations: string[] } | ContractOutcome {
  const assets = urnList(payload['assets'] ?? [], ASSET, 'assets');
  if (isOutcome(assets)) return assets;
  const locations = urnList(payload['locations'] ?? [], SGLN, 'locations', (m) => m[1].length + m[2].length === 12);
  if (isOutcome(locations)) return locations;
  return { assets: assets as string[], locations: locations as string[] };
}

const sorted = (list: readonly string[]) => [...list].sort();

function writeDevice(device: Device, extra: ContractOutcome & { ok: true } = { ok: true, writes: [] }): ContractOutcome {
  return { ok: true, writes: [{ key: deviceKeyOf(device.organizationId, device.deviceId), value: device as unknown as JsonValue }, ...extra.writes] };
}

/** `identity.device.register`: `{ deviceId, model, key: { algorithm, publicKey }, assets?, locations?, companyPrefixLength? }`. */
export const deviceRegisterContract: ContractHandler = {
  type: 'identity.device.register',
  configuration: false,
  execute(ctx) {
    const denied = mayManageDevices(ctx);
    if (denied) return denied;
    const payload = ctx.transaction.payload as Record<string, unknown>;
    const bad = exactFields(payload, ['deviceId', 'model', 'key', 'assets', 'locations', 'companyPrefixLength']);
    if (bad) return bad;
    const cpl = payload['companyPrefixLength'];
    if (cpl !== undefined && (typeof cpl !== 'number' || !Number.isInteger(cpl) || cpl < 6 || cpl > 12)) return reject('IDENTITY.INVALID', 'payload.companyPrefixLength must be an integer 6-12');
    const id = normalizeDeviceId(payload['deviceId'], cpl as number | undefined);
    if (!id.ok) return reject('IDENTITY.INVALID', `payload.deviceId: ${id.detail}`);
    if (cpl !== undefined && !(typeof payload['deviceId'] === 'string' && GIAI_LINK.test(payload['deviceId']))) return reject('IDENTITY.INVALID', 'payload.companyPrefixLength is only for a GS1 Digital Link deviceId');
    const model = payload['model'];
    if (typeof model !== 'string' || !MODEL.test(model)) return reject('IDENTITY.INVALID', 'payload.model must be 1-200 characters without control characters');
    const bindings = bindingsOf(payload);
    if (isOutcome(bindings)) return bindings;
    const organizationId = ctx.transaction.creator.organizationId;
    const existing = ctx.state.get(deviceIdIndexOf(id.identity))?.value as { organizationId?: string; deviceId?: string } | null | undefined;
    if (existing) return reject('IDENTITY.DEVICE_EXISTS', `device ${id.deviceId} is already registered${existing.organizationId === organizationId ? '' : ' by another organization'} (as ${String(existing.deviceId)})`);
    const key = parseNewKey(ctx, payload['key']);
    if (isOutcome(key)) return key;
    const device: Device = {
      organizationId,
      deviceId: id.deviceId,
      model,
      key: { keyId: key.keyId, algorithm: key.algorithm, publicKey: key.publicKey },
      status: 'active',
      assets: sorted(bindings.assets),
      locations: sorted(bindings.locations),
      registeredAtBlock: ctx.blockNumber,
      statusChangedAtBlock: ctx.blockNumber,
      statusReason: null,
    };
    const ref = { organizationId, deviceId: id.deviceId };
    return writeDevice(device, { ok: true, writes: [{ key: deviceIdIndexOf(id.identity), value: ref }, { key: deviceKeyIndexOf(key.keyId), value: ref }] });
  },
};

/** The common part of every change to a registered device: who may, the payload's fields, the device of the signer's organization. */
function existingDevice(ctx: ContractContext, fields: readonly string[]): { device: Device; payload: Record<string, unknown> } | ContractOutcome {
  const denied = mayManageDevices(ctx);
  if (denied) return denied;
  const payload = ctx.transaction.payload as Record<string, unknown>;
  const bad = exactFields(payload, ['deviceId', ...fields]);
  if (bad) return bad;
  const id = normalizeDeviceId(payload['deviceId']);
  if (!id.ok && !id.link) return reject('IDENTITY.INVALID', `payload.deviceId: ${id.detail}`);
  const device = findDevice(ctx.state, payload['deviceId']);
  const organizationId = ctx.transaction.creator.organizationId;
  if (!device) return reject('IDENTITY.DEVICE_NOT_FOUND', `device ${String(payload['deviceId'])} is not registered`);
  if (device.organizationId !== organizationId) return reject('IDENTITY.NOT_ALLOWED', `device ${device.deviceId} belongs to ${device.organizationId}; only its owner manages it`);
  if (device.status === 'retired') return reject('IDENTITY.DEVICE_RETIRED', `device ${device.deviceId} was retired at block ${device.statusChangedAtBlock}; retirement is final`);
  return { device, payload };
}

function bindChange(ctx: ContractContext, bind: boolean): ContractOutcome {
  const found = existingDevice(ctx, ['assets', 'locations']);
  if (isOutcome(found)) return found;
  const { device, payload } = found as { device: Device; payload: Record<string, unknown> };
  const change = bindingsOf(payload);
  if (isOutcome(change)) return change;
  if (change.assets.length + change.locations.length === 0) return reject('IDENTITY.INVALID', 'payload names no asset and no location');
  const next = { assets: new Set(device.assets), locations: new Set(device.locations) };
  for (const kind of ['assets', 'locations'] as const) {
    for (const urn of change[kind]) {
      if (bind && next[kind].has(urn)) return reject('IDENTITY.ALREADY_BOUND', `device ${device.deviceId} is already bound to ${urn}`);
      if (!bind && !next[kind].has(urn)) return reject('IDENTITY.NOT_BOUND', `device ${device.deviceId} is not bound to ${urn}`);
      if (bind) next[kind].add(urn);
      else next[kind].delete(urn);
    }
    if (next[kind].size > MAX_BINDINGS) return reject('IDENTITY.INVALID', `a device is bound to at most ${MAX_BINDINGS} ${kind}`);
  }
  return writeDevice({ ...device, assets: sorted([...next.assets]), locations: sorted([...next.locations]) });
}

/** `identity.device.bind`: `{ deviceId, assets?: [urn…], locations?: [sgln…] }` — adds bindings (none may exist already). */
export const deviceBindContract: ContractHandler = { type: 'identity.device.bind', configuration: false, execute: (ctx) => bindChange(ctx, true) };

/** `identity.device.unbind`: same payload — removes bindings (each must exist). */
export const deviceUnbindContract: ContractHandler = { type: 'identity.device.unbind', configuration: false, execute: (ctx) => bindChange(ctx, false) };

/** The allowed status changes: active ⇄ suspended; active | suspended → retired (final, refused in `existingDevice`). */
function statusChange(ctx: ContractContext, to: DeviceStatus): ContractOutcome {
  const found = existingDevice(ctx, ['reason']);
  if (isOutcome(found)) return found;
  const { device, payload } = found as { device: Device; payload: Record<string, unknown> };
  const reason = payload['reason'] ?? null;
  if (reason !== null && (typeof reason !== 'string' || reason.length < 1 || reason.length > MAX_REASON)) return reject('IDENTITY.INVALID', `payload.reason must be 1-${MAX_REASON} characters`);
  if (to === 'suspended' && device.status !== 'active') return reject('IDENTITY.DEVICE_NOT_ACTIVE', `device ${device.deviceId} is ${device.status}, not active`);
  if (to === 'active' && device.status !== 'suspended') return reject('IDENTITY.DEVICE_NOT_SUSPENDED', `device ${device.deviceId} is ${device.status}, not suspended`);
  return writeDevice({ ...device, status: to, statusChangedAtBlock: ctx.blockNumber, statusReason: reason as string | null });
}

/** `identity.device.suspend`: `{ deviceId, reason? }` — active → suspended; its telemetry stops counting from this block on. */
export const deviceSuspendContract: ContractHandler = { type: 'identity.device.suspend', configuration: false, execute: (ctx) => statusChange(ctx, 'suspended') };

/** `identity.device.reactivate`: `{ deviceId, reason? }` — suspended → active. */
export const deviceReactivateContract: ContractHandler = { type: 'identity.device.reactivate', configuration: false, execute: (ctx) => statusChange(ctx, 'active') };

/** `identity.device.retire`: `{ deviceId, reason? }` — active | suspended → retired, for good; its key is never reused. */
export const deviceRetireContract: ContractHandler = { type: 'identity.device.retire', configuration: false, execute: (ctx) => statusChange(ctx, 'retired') };

export const deviceContracts: readonly ContractHandler[] = [deviceRegisterContract, deviceBindContract, deviceUnbindContract, deviceSuspendContract, deviceReactivateContract, deviceRetireContract];

export type TelemetryVerdict =
  | { readonly ok: true; readonly device: Device }
  | { readonly ok: false; readonly code: 'IDENTITY.INVALID' | 'IDENTITY.DEVICE_NOT_FOUND' | 'IDENTITY.DEVICE_NOT_ACTIVE' | 'IDENTITY.DEVICE_KEY_MISMATCH' | 'IDENTITY.BAD_SIGNATURE'; readonly detail: string };

/**
 * Whether a signed telemetry reading counts, against the world state `state`
 * (e.g. as of the block that records the reading): the reading is well-formed
 * (docs/protocol.md §3.5), names a device registered by `organizationId`
 * under its stored id, the organization is a member, the device is active,
 * the reading's key is the device's, and the signature verifies in domain
 * `alliance/device-telemetry/v1`. Pure; never throws.
 */
export function verifyDeviceTelemetry(state: StateView, signed: SignedTelemetry, verifier: Verifier): TelemetryVerdict {
  let s: SignedTelemetry;
  try {
    s = validateSignedTelemetry(signed);
  } catch (error) {
    return { ok: false, code: 'IDENTITY.INVALID', detail: `malformed telemetry: ${error instanceof Error ? error.message : String(error)}` };
  }
  const { deviceId, organizationId, keyId } = s.reading;
  const device = state.get(deviceKeyOf(organizationId, deviceId))?.value as Device | null | undefined;
  if (!device) return { ok: false, code: 'IDENTITY.DEVICE_NOT_FOUND', detail: `no device ${deviceId} of ${organizationId} (telemetry names the device by its stored id)` };
  const config = state.get(CONFIG_KEY)?.value as ChainConfig | null | undefined;
  if (!config?.members.some((m) => m.organizationId === organizationId)) return { ok: false, code: 'IDENTITY.DEVICE_NOT_ACTIVE', detail: `organization ${organizationId} is not a member` };
  if (device.status !== 'active') return { ok: false, code: 'IDENTITY.DEVICE_NOT_ACTIVE', detail: `device ${deviceId} is ${device.status} since block ${device.statusChangedAtBlock}` };
  if (device.key.keyId !== keyId) return { ok: false, code: 'IDENTITY.DEVICE_KEY_MISMATCH', detail: `key ${keyId} is not the key of device ${deviceId}` };
  if (!verifyTelemetrySignature(s, fromHex(device.key.publicKey), verifier)) return { ok: false, code: 'IDENTITY.BAD_SIGNATURE', detail: `the signature of device ${deviceId} does not verify` };
  return { ok: true, device };
}
