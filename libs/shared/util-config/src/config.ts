import { z } from 'zod';

/**
 * Typed configuration from environment variables, validated once at start-up.
 * A bad or missing value becomes one ConfigError whose message names every
 * offending variable in one line; `main.ts` prints it and exits (no stack).
 */
export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: readonly string[],
  ) {
    super(`${service}: invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Field parsers shared by every service, so one variable means one thing everywhere. */
export const field = {
  port: (fallback?: number) => {
    const p = z.coerce
      .number({ error: 'must be an integer port number' })
      .int('must be an integer port number')
      .min(1, 'must be between 1 and 65535')
      .max(65535, 'must be between 1 and 65535');
    return fallback === undefined ? p : z.preprocess(emptyToUndefined, p.default(fallback));
  },
  postgresUrl: () =>
    z
      .string({ error: 'is required (e.g. postgres://user@127.0.0.1:5432/alliance)' })
      .refine((v) => /^postgres(ql)?:\/\/[^\s]+$/.test(v) && canParseUrl(v), 'must be a postgres:// URL'),
  httpUrl: () =>
    z.string({ error: 'is required (an http:// or https:// URL)' }).refine((v) => /^https?:\/\//.test(v) && canParseUrl(v), 'must be an http:// or https:// URL'),
  /** One http(s) URL, or undefined when unset. */
  optionalHttpUrl: () => z.preprocess(emptyToUndefined, z.string().refine((v) => /^https?:\/\//.test(v) && canParseUrl(v), 'must be an http:// or https:// URL').optional()),
  /** Comma-separated http(s) URLs, or undefined when unset. */
  optionalHttpUrlList: () =>
    z.preprocess(
      emptyToUndefined,
      z
        .string()
        .transform((v) => v.split(',').map((u) => u.trim()).filter((u) => u.length > 0))
        .refine((list) => list.every((u) => /^https?:\/\//.test(u) && canParseUrl(u)), 'must be http:// or https:// URLs separated by commas')
        .optional(),
    ),
  brokers: () =>
    z
      .string({ error: 'is required (comma-separated host:port list, e.g. 127.0.0.1:9092)' })
      .transform((v) => v.split(',').map((b) => b.trim()).filter((b) => b.length > 0))
      .refine((list) => list.length > 0, 'must list at least one host:port')
      .refine((list) => list.every((b) => /^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/.test(b)), 'must be host:port entries separated by commas'),
  oneOf: <T extends string>(values: readonly [T, ...T[]], fallback?: T) => {
    const e = z.enum(values, { error: `must be one of ${values.join(', ')}` });
    return fallback === undefined ? e : z.preprocess(emptyToUndefined, e.default(fallback));
  },
  positiveInt: (fallback: number) =>
    z.preprocess(emptyToUndefined, z.coerce.number({ error: 'must be a positive integer' }).int('must be a positive integer').positive('must be a positive integer').default(fallback)),
  /** An integer >= 0 (0 usually turns a feature off), `fallback` when unset. */
  nonNegativeInt: (fallback: number) =>
    z.preprocess(emptyToUndefined, z.coerce.number({ error: 'must be an integer >= 0' }).int('must be an integer >= 0').min(0, 'must be an integer >= 0').default(fallback)),
  /** An integer >= 0, or undefined when unset (the consumer picks a default that depends on the machine). */
  optionalNonNegativeInt: () =>
    z.preprocess(emptyToUndefined, z.coerce.number({ error: 'must be an integer >= 0' }).int('must be an integer >= 0').min(0, 'must be an integer >= 0').optional()),
  identifier: (fallback?: string) => {
    const s = z.string({ error: 'is required (lower-case letters, digits and dashes)' }).regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and dashes, starting with a letter');
    return fallback === undefined ? s : z.preprocess(emptyToUndefined, s.default(fallback));
  },
  logLevel: () => field.oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
  optionalString: () => z.preprocess(emptyToUndefined, z.string().optional()),
};

function emptyToUndefined(v: unknown): unknown {
  return v === '' ? undefined : v;
}

function canParseUrl(v: string): boolean {
  try {
    new URL(v);
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses `env` with a map from variable name to parser. Values are never
 * echoed for variables that look secret.
 */
export function loadConfig<S extends z.ZodRawShape>(service: string, shape: S, env: Env = process.env): z.infer<z.ZodObject<S>> {
  const result = z.object(shape).safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '?');
    const raw = env[name];
    const shown = raw === undefined ? 'not set' : isSecretName(name) ? 'value hidden' : `got "${truncate(raw)}"`;
    return `${name} ${issue.message} (${shown})`;
  });
  throw new ConfigError(service, problems);
}

function isSecretName(name: string): boolean {
  return /(SECRET|PASSWORD|TOKEN|KEY)/.test(name);
}

function truncate(v: string): string {
  return v.length > 60 ? `${v.slice(0, 57)}...` : v;
}

/** Hides the password of a connection URL before it is logged. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable url>';
  }
}
