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

  it('carries a sensor alert with exact decimal strings and explicit UTC times', () => {
    const alert = {
      chainId: 'c',
      blockNumber: 12,
      transactionId: 'a'.repeat(64),
      batchId: 'batch-0001',
      alertId: 'b'.repeat(64),
      organizationId: 'org1',
      ruleId: 'cold-chain',
      ruleVersion: 1,
      subject: 'https://id.gs1.org/01/09506000134352/21/A1',
      measurementType: 'Temperature',
      uom: 'CEL',
      min: '2',
      max: '8',
      from: '2026-12-03T08:02:00.000Z',
      to: '2026-12-03T08:14:00.000Z',
      durationSeconds: 720,
      worstValue: '10.2',
      disposition: 'non_conformant',
      eventId: 'ni:///sha-256;' + 'c'.repeat(64) + '?ver=CBV2.0',
    };
    expect(findTopic('provenance.alert.raised.v1')).toBe(Topics.provenanceAlertRaised);
    expect(Topics.provenanceAlertRaised.payload.safeParse(alert).success).toBe(true);
    expect(Topics.provenanceAlertRaised.payload.safeParse({ ...alert, max: null }).success).toBe(true);
    expect(Topics.provenanceAlertRaised.payload.safeParse({ ...alert, worstValue: 10.2 }).success).toBe(false);
    expect(Topics.provenanceAlertRaised.payload.safeParse({ ...alert, min: '1e1' }).success).toBe(false);
    expect(Topics.provenanceAlertRaised.payload.safeParse({ ...alert, to: '2026-12-03 08:14' }).success).toBe(false);
  });
});

describe('provenance.stock.changed.v1', () => {
  it('carries exact decimal levels, null uom for an instance key, and refuses floats', () => {
    const level = { chainId: 'alliance-main', blockNumber: 12, item: 'https://id.gs1.org/01/09506000134352/10/L1', organizationId: 'org1', uom: 'KGM', onHand: '700', previousOnHand: '1000', eventId: 'ni:///sha-256;' + 'a'.repeat(64) + '?ver=CBV2.0' };
    expect(findTopic('provenance.stock.changed.v1')).toBe(Topics.provenanceStockChanged);
    expect(Topics.provenanceStockChanged.payload.safeParse(level).success).toBe(true);
    expect(Topics.provenanceStockChanged.payload.safeParse({ ...level, uom: null, onHand: '1', previousOnHand: null }).success).toBe(true);
    expect(Topics.provenanceStockChanged.payload.safeParse({ ...level, onHand: 700 }).success).toBe(false);
    expect(Topics.provenanceStockChanged.payload.safeParse({ ...level, onHand: '7e2' }).success).toBe(false);
  });
});
