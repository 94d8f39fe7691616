import { describe, expect, it } from 'vitest';
import { deadLetterTopicOf, findTopic, TOPIC_NAME_PATTERN, Topics } from './topics';

describe('topics', () => {
  it('every topic follows the naming rule and validates its payload', () => {
    for (const topic of Object.values(Topics)) expect(topic.name).toMatch(TOPIC_NAME_PATTERN);
    expect(findTopic('ledger.block.committed.v1')).toBe(Topics.ledgerBlockCommitted);
    expect(deadLetterTopicOf('ledger.block.committed.v1')).toBe('ledger.block.committed.v1.dlq');
  });

  it('rejects a payload with a float block number or a bad hash', () => {
    const bad = Topics.ledgerBlockCommitted.payload.safeParse({ chainId: 'c', nodeId: 'n', blockNumber: 1.5, headerHash: 'xyz', transactionCount: 0, treeSize: 0, committedAt: '2026-01-01T00:00:00Z' });
    expect(bad.success).toBe(false);
  });

  it('describes a fork with both header hashes and an explicit UTC time', () => {
    const fork = { chainId: 'c', nodeId: 'org1-node', blockNumber: 7, committedHeaderHash: 'a'.repeat(64), signerOrganizationId: 'org2', signedHeaderHash: 'b'.repeat(64), detectedAt: '2026-12-02T06:30:00.000Z' };
    expect(Topics.ledgerForkDetected.payload.safeParse(fork).success).toBe(true);
    expect(Topics.ledgerForkDetected.payload.safeParse({ ...fork, signedHeaderHash: 'B'.repeat(64) }).success).toBe(false);
    expect(Topics.ledgerForkDetected.payload.safeParse({ ...fork, detectedAt: '2026-12-02 06:30' }).success).toBe(false);
  });
});
