import { describe, expect, it } from 'vitest';
import { ConfigError, field, loadConfig, redactUrl } from './config';

const shape = {
  PORT: field.port(3000),
  DATABASE_URL: field.postgresUrl(),
  KAFKA_BROKERS: field.brokers(),
  MESSAGING: field.oneOf(['kafka', 'postgres'] as const, 'kafka'),
  JWT_SECRET: field.optionalString(),
};

describe('loadConfig', () => {
  it('parses and applies defaults', () => {
    const c = loadConfig('svc', shape, { DATABASE_URL: 'postgres://u@h:5432/d', KAFKA_BROKERS: 'a:1, b:2' });
    expect(c).toEqual({ PORT: 3000, DATABASE_URL: 'postgres://u@h:5432/d', KAFKA_BROKERS: ['a:1', 'b:2'], MESSAGING: 'kafka', JWT_SECRET: undefined });
  });

  it('names every bad variable in one line', () => {
    let err: unknown;
    try {
      loadConfig('alliance-ledger', shape, { PORT: 'abc', DATABASE_URL: 'mysql://x', KAFKA_BROKERS: 'nohost', MESSAGING: 'rabbit' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as ConfigError).message;
    expect(message).not.toContain('\n');
    expect(message).toMatch(/^alliance-ledger: invalid configuration: /);
    expect(message).toContain('PORT must be an integer port number (got "abc")');
    expect(message).toContain('DATABASE_URL must be a postgres:// URL');
    expect(message).toContain('KAFKA_BROKERS must be host:port entries');
    expect(message).toContain('MESSAGING must be one of kafka, postgres (got "rabbit")');
  });

  it('optionalNonNegativeInt: unset is undefined, 0 and up parse, anything else is refused', () => {
    const threads = { THREADS: field.optionalNonNegativeInt() };
    expect(loadConfig('s', threads, {})).toEqual({ THREADS: undefined });
    expect(loadConfig('s', threads, { THREADS: '' })).toEqual({ THREADS: undefined });
    expect(loadConfig('s', threads, { THREADS: '0' })).toEqual({ THREADS: 0 });
    expect(loadConfig('s', threads, { THREADS: '3' })).toEqual({ THREADS: 3 });
    for (const bad of ['-1', '1.5', 'many']) expect(() => loadConfig('s', threads, { THREADS: bad })).toThrow(/THREADS must be an integer >= 0/);
  });

  it('reports missing required values and hides secrets', () => {
    expect(() => loadConfig('s', { DB_PASSWORD: field.port() }, { DB_PASSWORD: 'hunter2' })).toThrow(/DB_PASSWORD .*\(value hidden\)/);
    expect(() => loadConfig('s', shape, {})).toThrow(/DATABASE_URL is required .*\(not set\)/);
    expect(() => loadConfig('s', { PORT: field.port(1) }, { PORT: '70000' })).toThrow(/between 1 and 65535/);
  });

  it('redacts passwords in URLs', () => {
    expect(redactUrl('postgres://u:secret@h:5432/d')).toBe('postgres://u:***@h:5432/d');
  });
});
