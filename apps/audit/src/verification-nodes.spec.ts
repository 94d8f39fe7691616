import { describe, expect, it } from 'vitest';
import { NodeDirectory, parseMemberNodes } from './verification-nodes';
import { compareCheckpoints, nextLag } from './verification-watch';

describe('AUDIT_MEMBER_NODES', () => {
  it('parses organization=URL pairs, trimming spaces and trailing slashes', () => {
    expect(parseMemberNodes(undefined)).toEqual([]);
    expect(parseMemberNodes(' ')).toEqual([]);
    expect(parseMemberNodes('org1=http://a:1/, org-2 = https://b.example/x')).toEqual([
      { name: 'org1', organizationId: 'org1', url: 'http://a:1' },
      { name: 'org-2', organizationId: 'org-2', url: 'https://b.example/x' },
    ]);
  });

  it('refuses what is not one node per organization, naming the variable and the item', () => {
    expect(() => parseMemberNodes('org1')).toThrow(/^AUDIT_MEMBER_NODES: "org1" is not <organizationId>=<http\(s\) URL>/);
    expect(() => parseMemberNodes('Org1=http://a')).toThrow(/AUDIT_MEMBER_NODES: "Org1=http:\/\/a"/);
    expect(() => parseMemberNodes('org1=')).toThrow(/the node of org1 \(""\) is not an http/);
    expect(() => parseMemberNodes('org1=ftp://a')).toThrow(/the node of org1 \("ftp:\/\/a"\) is not an http/);
    expect(() => parseMemberNodes('observer=http://a')).toThrow(/"observer" names the regulator's own node/);
    expect(() => parseMemberNodes('org1=http://a,org1=http://b')).toThrow(/org1 is listed twice/);
  });

  it('names nodes: observer by default, members by organization, AUDIT.* codes otherwise', () => {
    const d = new NodeDirectory('http://obs/', parseMemberNodes('org1=http://a'));
    expect(d.byName(undefined)).toEqual({ name: 'observer', organizationId: null, url: 'http://obs' });
    expect(d.byName('org1').url).toBe('http://a');
    expect(() => d.byName(undefined, true)).toThrow(expect.objectContaining({ code: 'AUDIT.INVALID_QUERY' }));
    expect(() => d.byName('org9')).toThrow(expect.objectContaining({ code: 'AUDIT.NOT_FOUND' }));
    expect(() => new NodeDirectory(undefined, []).byName('observer')).toThrow(expect.objectContaining({ code: 'AUDIT.NOT_CONFIGURED' }));
    expect(d.all().map((n) => n.name)).toEqual(['observer', 'org1']);
  });
});

describe('the observer watch', () => {
  it('compares checkpoints: same size and root in sync, same size other root a fork, else ahead or behind', () => {
    expect(compareCheckpoints({ treeSize: 5, rootHash: 'a' }, { treeSize: 5, rootHash: 'a' })).toBe('in-sync');
    expect(compareCheckpoints({ treeSize: 5, rootHash: 'a' }, { treeSize: 5, rootHash: 'b' })).toBe('fork');
    expect(compareCheckpoints({ treeSize: 5, rootHash: 'a' }, { treeSize: 7, rootHash: 'b' })).toBe('ahead');
    expect(compareCheckpoints({ treeSize: 5, rootHash: 'a' }, { treeSize: 3, rootHash: 'b' })).toBe('behind');
  });

  it('keeps a lag’s clock while the lagging side still lacks its first missing size, restarts it otherwise', () => {
    const first = nextLag(undefined, 3, 5, 2, 1000);
    expect(first).toEqual({ size: 5, blockNumber: 2, since: 1000 });
    // The chain moved on (7) but the member is still below 5: the same lag, the same clock.
    expect(nextLag(first, 4, 7, 3, 2000)).toBe(first);
    // The member caught up to 5 and lags again behind 9: a new lag.
    expect(nextLag(first, 5, 9, 4, 3000)).toEqual({ size: 9, blockNumber: 4, since: 3000 });
  });
});
