import { describe, expect, it } from 'vitest';
import { uniqueTopicName } from './kafka';

describe('uniqueTopicName', () => {
  it('keeps the prefix and differs on every call', () => {
    const names = new Set(Array.from({ length: 100 }, () => uniqueTopicName('ledger.blocks')));
    expect(names.size).toBe(100);
    for (const name of names) expect(name.startsWith('ledger.blocks.')).toBe(true);
  });

  it('replaces characters Kafka does not allow in topic names', () => {
    const name = uniqueTopicName('audit events/v1');
    expect(name).toMatch(/^audit-events-v1\.[a-z0-9]+-[0-9a-f]{8}$/);
    expect(name).toMatch(/^[a-zA-Z0-9._-]{1,249}$/);
  });
});
