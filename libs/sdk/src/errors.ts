/**
 * The SDK's one error type. `code` is stable (`SDK.WRONG_PASSPHRASE`, or the
 * server's own code such as `LEDGER.DUPLICATE_TRANSACTION` for API errors);
 * messages are for people and may change.
 */
export class AllianceSdkError extends Error {
  override readonly name: string = 'AllianceSdkError';

  constructor(
    readonly code: string,
    message: string,
    options: { readonly cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

export const SdkErrorCode = {
  /** The passphrase does not open this key file. */
  WRONG_PASSPHRASE: 'SDK.WRONG_PASSPHRASE',
  /** The passphrase is right but the file's contents were changed after it was written. */
  KEY_FILE_TAMPERED: 'SDK.KEY_FILE_TAMPERED',
  MALFORMED_KEY_FILE: 'SDK.MALFORMED_KEY_FILE',
  PASSPHRASE_REQUIRED: 'SDK.PASSPHRASE_REQUIRED',
  /** Neither WebCrypto nor node:crypto is available. */
  CRYPTO_UNAVAILABLE: 'SDK.CRYPTO_UNAVAILABLE',
  INVALID_ARGUMENT: 'SDK.INVALID_ARGUMENT',
  /** The node could not be reached (DNS, refused connection, TLS …). */
  NETWORK_ERROR: 'SDK.NETWORK_ERROR',
  /** No answer within the request timeout. */
  TIMEOUT: 'SDK.TIMEOUT',
  /** An answer that is not what the API documents (not JSON, wrong shape). */
  BAD_RESPONSE: 'SDK.BAD_RESPONSE',
  /** An error answer without a problem+json body. */
  HTTP_ERROR: 'SDK.HTTP_ERROR',
  /** `waitForCommit` gave up before the transaction's block was certified. */
  COMMIT_TIMEOUT: 'SDK.COMMIT_TIMEOUT',
  MALFORMED_TRUST: 'SDK.MALFORMED_TRUST',
  /** A sign-in challenge that is not an auth challenge for the organization and key asked for: never signed. */
  BAD_CHALLENGE: 'SDK.BAD_CHALLENGE',
  /** `session.accessToken()` after `session.logout()`. */
  SIGNED_OUT: 'SDK.SIGNED_OUT',
} as const;

export type SdkErrorCode = (typeof SdkErrorCode)[keyof typeof SdkErrorCode];

/** An error answer of the Alliance API (RFC 9457 problem+json), or a transport failure. */
export class AllianceApiError extends AllianceSdkError {
  override readonly name: string = 'AllianceApiError';

  constructor(
    code: string,
    /** HTTP status; 0 when there was no HTTP answer (network error, timeout). */
    readonly status: number,
    /** The problem's `detail`: what went wrong, for people. */
    readonly detail: string,
    readonly extra: {
      readonly title?: string;
      readonly type?: string;
      readonly instance?: string;
      readonly correlationId?: string;
      readonly details?: Readonly<Record<string, unknown>>;
      readonly method?: string;
      readonly url?: string;
      readonly cause?: unknown;
    } = {},
  ) {
    super(code, `${code}${status ? ` (HTTP ${status})` : ''}: ${detail}`, { cause: extra.cause });
  }

  get correlationId(): string | undefined {
    return this.extra.correlationId;
  }
}

export function isAllianceApiError(value: unknown): value is AllianceApiError {
  return value instanceof AllianceApiError;
}
