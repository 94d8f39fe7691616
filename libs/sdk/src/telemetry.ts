import { ProtocolError, type SignedTelemetry, type TelemetryMeasurement, formatTimestamp, keyId, publicKeyOf, signTelemetryReading } from '@alliance/protocol';
import { AllianceSdkError, SdkErrorCode } from './errors';
import type { AllianceKey } from './keys';

/** What a device decides about a reading; the SDK fills in its key id and, by default, the time. */
export interface TelemetryInput {
  /** The device id as registered (`urn:epc:id:giai:…` or `did:…`). */
  readonly deviceId: string;
  /** The device's owner organization; defaults to the key's. */
  readonly organizationId?: string;
  /** The device's own counter (integer ≥ 0), so a consumer can spot gaps and replays. */
  readonly sequence?: number;
  /** When it measured; defaults to now. */
  readonly observedAt?: Date | string;
  /** 1–64 of `{ type, value, uom }`: CBV type short name (`Temperature`) or URI, a decimal string or integer, a UN/CEFACT unit (`CEL`). */
  readonly readings: readonly TelemetryMeasurement[];
}

/**
 * Signs one telemetry reading with the device's own key (domain
 * `alliance/device-telemetry/v1`, docs/protocol.md §3.5). The result is what
 * the device sends; it counts only while the device is registered and active
 * on the ledger with this key. Throws AllianceSdkError with the protocol's code.
 */
export function signTelemetry(key: Pick<AllianceKey, 'algorithm' | 'privateKey'> & { readonly organizationId?: string }, input: TelemetryInput): SignedTelemetry {
  try {
    const organizationId = input.organizationId ?? key.organizationId;
    if (organizationId === undefined) throw new AllianceSdkError(SdkErrorCode.INVALID_ARGUMENT, 'organizationId is required when the key has none');
    const observedAt = input.observedAt === undefined ? formatTimestamp(Date.now()) : typeof input.observedAt === 'string' ? input.observedAt : formatTimestamp(input.observedAt);
    return signTelemetryReading(
      {
        deviceId: input.deviceId,
        organizationId,
        keyId: keyId(key.algorithm, publicKeyOf(key.algorithm, key.privateKey)),
        ...(input.sequence === undefined ? {} : { sequence: input.sequence }),
        observedAt,
        readings: input.readings,
      },
      key,
    );
  } catch (error) {
    if (error instanceof ProtocolError) throw new AllianceSdkError(error.code, error.message, { cause: error });
    throw error;
  }
}
