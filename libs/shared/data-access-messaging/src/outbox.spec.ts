import { sealProblem, type TopicDefinition } from '@alliance/contracts';
import { generateKeyPair } from '@alliance/protocol';
import type { PoolClient } from '@alliance/shared/data-access-postgres';
import { AllianceError } from '@alliance/shared/util-errors';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MessagingErrorCodes } from './errors';
import { messagingMigrations, busMigrations } from './migrations';
import { Outbox } from './outbox';

const topic: TopicDefinition<{ n: number }> = { name: 'test.thing.happened.v1', payload: z.object({ n: z.number().int() }), description: 'test' };

/** Records statements instead of running them: enough to see what enqueue would write. */
function recordingClient(): { client: PoolClient; statements: { text: string; values: unknown[] }[] } {
  const statements: { text: string; values: unknown[] }[] = [];
  const client = {
    query: async (text: string, values: unknown[]) => {
      statements.push({ text, values });
      return { rows: [], rowCount: 1 };
    },
  } as unknown as PoolClient;
  return { client, statements };
}

describe('Outbox.enqueue (validation, without a database)', () => {
  it('refuses a payload that fails the topic schema before writing anything', async () => {
    const { client, statements } = recordingClient();
    const outbox = new Outbox({ schema: 'svc', producer: 'svc' });
    const error = await outbox.enqueue(client, topic, { n: 1.5 }, { key: 'k', correlationId: 'c' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AllianceError);
    expect((error as AllianceError).code).toBe(MessagingErrorCodes.invalidPayload);
    expect((error as AllianceError).kind).toBe('invalid');
    expect(statements).toHaveLength(0);
  });

  it('refuses bad metadata (empty correlation id, no producer)', async () => {
    const { client, statements } = recordingClient();
    await expect(new Outbox({ schema: 'svc', producer: 'svc' }).enqueue(client, topic, { n: 1 }, { key: 'k', correlationId: '' })).rejects.toMatchObject({
      code: MessagingErrorCodes.invalidEnvelope,
    });
    await expect(new Outbox({ schema: 'svc' }).enqueue(client, topic, { n: 1 }, { key: 'k', correlationId: 'c' })).rejects.toMatchObject({
      code: MessagingErrorCodes.invalidEnvelope,
    });
    expect(statements).toHaveLength(0);
  });

  it('writes one INSERT into <schema>.outbox with a UUID event id and a UTC timestamp', async () => {
    const { client, statements } = recordingClient();
    const envelope = await new Outbox({ schema: 'svc', producer: 'svc' }).enqueue(client, topic, { n: 1 }, { key: 'k', correlationId: 'c', causationId: 'cause' });
    expect(envelope.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(envelope.occurredAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(envelope).toMatchObject({ topic: topic.name, key: 'k', correlationId: 'c', causationId: 'cause', producer: 'svc', payload: { n: 1 } });
    expect(statements).toHaveLength(1);
    expect(statements[0].text).toMatch(/^INSERT INTO "svc"\.outbox /);
    expect(JSON.parse(String(statements[0].values[3]))).toEqual(envelope);
  });

  it('seals the envelope it writes when given a key, so a consumer trusting that key verifies it', async () => {
    const { client, statements } = recordingClient();
    const key = generateKeyPair('ed25519');
    const outbox = new Outbox({ schema: 'svc', producer: 'svc' });
    const sealed = await outbox.enqueue(client, topic, { n: 1 }, { key: 'k', correlationId: 'c', seal: { organizationId: 'org1', algorithm: 'ed25519', privateKey: key.privateKey } });
    const written = JSON.parse(statements[0].values[3] as string) as typeof sealed;
    expect(written.seal).toEqual(sealed.seal);
    expect(sealProblem(written, [{ organizationId: 'org1', algorithm: 'ed25519', publicKey: key.publicKey }])).toBeUndefined();
    expect((await outbox.enqueue(client, topic, { n: 1 }, { key: 'k', correlationId: 'c' })).seal).toBeUndefined();
  });

  it('refuses schema names that would need quoting', () => {
    expect(() => new Outbox({ schema: 'svc"; DROP TABLE x; --' })).toThrow(/invalid schema/);
  });
});

describe('migrations', () => {
  it('ship as timestamped SQL files that services can merge without clashing with theirs', () => {
    const messaging = messagingMigrations();
    expect(messaging.map((m) => `${m.version}_${m.name}`)).toEqual(['20261125000000_messaging_outbox_and_processed_events']);
    expect(messaging[0].sql).toMatch(/CREATE TABLE outbox/);
    expect(messaging[0].sql).toMatch(/CREATE TABLE processed_events/);
    // Unqualified: runMigrations puts them into each service's own schema.
    expect(messaging[0].sql).not.toMatch(/CREATE TABLE \w+\./);
    const bus = busMigrations();
    expect(bus.map((m) => m.name)).toEqual(['bus_log']);
    expect(bus[0].sql).toMatch(/CREATE TABLE log/);
  });
});
