/**
 * One error type for the whole code base. The `code` is stable and namespaced
 * by module (`LEDGER.BLOCK_NOT_FOUND`); transports map it once each
 * (HTTP problem+json, GraphQL `extensions.code`, dead-letter headers).
 */
export type ErrorKind =
  | 'invalid' // the caller sent something wrong (400)
  | 'unauthenticated' // 401
  | 'forbidden' // 403
  | 'not-found' // 404
  | 'timeout' // the request did not arrive in time (408)
  | 'conflict' // state does not allow it, duplicates (409)
  | 'too-large' // 413
  | 'unsupported-media-type' // 415
  | 'rate-limited' // 429
  | 'headers-too-large' // the request line and headers exceed the server's limit (431)
  | 'unavailable' // a dependency is down; retry later (503)
  | 'internal'; // a bug (500)

const STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  timeout: 408,
  conflict: 409,
  'too-large': 413,
  'unsupported-media-type': 415,
  'rate-limited': 429,
  'headers-too-large': 431,
  unavailable: 503,
  internal: 500,
};

const CODE_PATTERN = /^[A-Z][A-Z0-9_]*\.[A-Z][A-Z0-9_]*$/;

export interface AllianceErrorOptions {
  readonly details?: Readonly<Record<string, unknown>>;
  readonly cause?: unknown;
}

export class AllianceError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: string, kind: ErrorKind, message: string, options: AllianceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (!CODE_PATTERN.test(code)) throw new Error(`error code "${code}" must look like MODULE.REASON`);
    this.name = 'AllianceError';
    this.code = code;
    this.kind = kind;
    this.details = options.details ?? {};
  }

  get status(): number {
    return STATUS[this.kind];
  }

  /** The module part of the code, e.g. `LEDGER`. */
  get module(): string {
    return this.code.slice(0, this.code.indexOf('.'));
  }
}

export function isAllianceError(value: unknown): value is AllianceError {
  return value instanceof AllianceError;
}

export function statusOf(kind: ErrorKind): number {
  return STATUS[kind];
}

/** Codes used across modules; each module adds its own in its own library. */
export const CommonErrors = {
  validation: (message: string, details?: Record<string, unknown>) =>
    new AllianceError('COMMON.VALIDATION_FAILED', 'invalid', message, { details }),
  notFound: (what: string) => new AllianceError('COMMON.NOT_FOUND', 'not-found', `${what} not found`),
  unavailable: (dependency: string, cause?: unknown) =>
    new AllianceError('COMMON.DEPENDENCY_UNAVAILABLE', 'unavailable', `${dependency} is unavailable`, { cause }),
  internal: (cause?: unknown) => new AllianceError('COMMON.INTERNAL', 'internal', 'internal error', { cause }),
} as const;
