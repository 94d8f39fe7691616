// deploy/k8s rendered offline and validated: core kinds against the Kubernetes
// 1.36.0 OpenAPI schema (kubernetes-models validators), custom resources against
// the vendored operator schemas, plus cross-references (tools/k8s-check.ts).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Topics } from '@alliance/contracts';
import { checkReferences, configVariables, K8S_DIR, renderKustomization, repoPath, strategicMerge, validateManifest, type Rendered } from './k8s-check';

const APPS = ['identity', 'ledger', 'provenance', 'finance', 'audit', 'gateway'];
const BASE_VARIABLES = configVariables(repoPath('libs/shared/feature-platform/src/base-config.ts'));
const variablesOf = (app: string) => new Set([...BASE_VARIABLES, ...(APPS.includes(app) ? configVariables(repoPath(`apps/${app}/src/config.ts`)) : []), 'NODE_OPTIONS']);
const README = readFileSync(`${K8S_DIR}/README.md`, 'utf8');
/** Named in README.md's table of what operators create. */
const OPERATOR_MADE = ['alliance-pg-app', 'alliance-genesis', 'alliance-node-key', 'alliance-provenance-key', 'alliance-finance-key', 'alliance-audit-key', 'alliance-kafka-user', 'alliance-kafka-ca'];
const rules = { operatorMade: OPERATOR_MADE, variablesOf, variablesOfAny: new Set(APPS.flatMap((app) => [...variablesOf(app)])), imageTag: JSON.parse(readFileSync(repoPath('package.json'), 'utf8')).version as string };

const rendered = renderKustomization(K8S_DIR);
const ofKind = (kind: string) => rendered.filter((r) => r.doc.kind === kind);
const ORGS = ['org1', 'org2', 'org3', 'regulator'];

describe('deploy/k8s', () => {
  it('renders the ordering service and one namespace per organization', () => {
    expect(ofKind('Namespace').map((r) => r.doc.metadata.name).sort()).toEqual(['alliance-ordering', ...ORGS.map((o) => `alliance-${o}`)].sort());
    for (const org of ORGS) {
      const ns = rendered.filter((r) => r.doc.metadata?.namespace === `alliance-${org}`);
      expect(ns.find((r) => r.doc.kind === 'ConfigMap' && r.doc.metadata.name === 'alliance-config')?.doc.data.ORG_ID).toBe(org);
      expect(ns.filter((r) => r.doc.kind === 'StatefulSet').map((r) => r.doc.metadata.name)).toEqual(['ledger']);
      expect(ns.filter((r) => r.doc.kind === 'Cluster')).toHaveLength(1);
      expect(ns.filter((r) => r.doc.kind === 'Deployment').map((r) => r.doc.metadata.name).sort()).toEqual(['audit', 'finance', 'gateway', 'identity', 'provenance']);
      expect(ns.filter((r) => r.doc.kind === 'HorizontalPodAutoscaler')).toHaveLength(5);
    }
  });

  it('every document is valid against its schema', async () => {
    for (const r of rendered) expect(await validateManifest(r)).toBeUndefined();
  });

  it('names the first invalid field', async () => {
    const deployment = ofKind('Deployment')[0]!;
    const broken = strategicMerge(deployment.doc, { spec: { template: { spec: { containers: [{ name: deployment.doc.metadata.name, ports: [{ name: 'http', containerPort: 'http' }] }] } } } });
    expect(await validateManifest({ ...deployment, doc: broken as Rendered['doc'] })).toMatch(/Deployment\/\w+: \/spec\/template\/spec\/containers\/0\/ports\/0\/containerPort must be integer/);
    const hpa = ofKind('HorizontalPodAutoscaler')[0]!;
    expect(await validateManifest({ ...hpa, doc: { ...hpa.doc, spec: { ...hpa.doc.spec, maxReplicas: undefined } } })).toMatch(/\/spec must have required property '?maxReplicas'?/);
    const topic = ofKind('KafkaTopic')[0]!;
    expect(await validateManifest({ ...topic, doc: { ...topic.doc, spec: { ...topic.doc.spec, partitons: 1 } } })).toMatch(/\/spec must NOT have additional properties \(partitons\)/);
    expect(await validateManifest({ ...topic, doc: { ...topic.doc, spec: { ...topic.doc.spec, partitions: 0 } } })).toMatch(/\/spec\/partitions must be >= 1/);
    const user = ofKind('KafkaUser')[0]!;
    const acl = { resource: { type: 'topic', name: 'x' }, operations: ['Publish'] };
    expect(await validateManifest({ ...user, doc: { ...user.doc, spec: { ...user.doc.spec, authorization: { type: 'simple', acls: [acl] } } } })).toMatch(/\/spec\/authorization\/acls\/0\/operations\/0 must be equal to one of the allowed values/);
    const kafka = ofKind('Kafka')[0]!;
    const listener = { name: 'plain-listener', port: 9092, type: 'internal', tls: false };
    expect(await validateManifest({ ...kafka, doc: strategicMerge(kafka.doc, { spec: { kafka: { listeners: [listener] } } }) as Rendered['doc'] })).toMatch(/\/spec\/kafka\/listeners\/\d+\/name must match pattern/);
    expect(await validateManifest({ source: 'x', doc: { apiVersion: 'apps/v1', kind: 'Deploymnt', metadata: { name: 'x' } } })).toMatch(/not a Kubernetes 1.36 kind/);
  });

  it('references resolve: selectors, ConfigMaps, Secrets, images, variables, probes', () => {
    expect(checkReferences(rendered, rules)).toEqual([]);
    for (const name of OPERATOR_MADE) expect(README, `${name} documented as operator-made`).toContain(`\`${name}\``);
  });

  it('finds broken references', () => {
    const org1 = rendered.filter((r) => r.doc.metadata?.namespace === 'alliance-org1');
    const service = org1.find((r) => r.doc.kind === 'Service' && r.doc.metadata.name === 'finance')!;
    const ledger = org1.find((r) => r.doc.kind === 'StatefulSet')!;
    const broken = org1.map((r) => {
      if (r.doc.kind === 'ConfigMap') return { ...r, doc: strategicMerge(r.doc, { data: { ORG_NAME: 'x' } }) as Rendered['doc'] };
      if (r === service) return { ...r, doc: strategicMerge(r.doc, { spec: { selector: { 'app.kubernetes.io/name': 'financ' } } }) as Rendered['doc'] };
      if (r === ledger)
        return { ...r, doc: strategicMerge(r.doc, { spec: { template: { spec: { volumes: [{ name: 'node-key', secret: { secretName: 'node-key' } }], containers: [{ name: 'ledger', image: 'alliance/ledger:9', env: [{ name: 'LEDGER_ROLL', value: 'member' }] }] } } } }) as Rendered['doc'] };
      return r;
    });
    const problems = checkReferences(broken, rules);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/Service\/finance .*selector matches no pod template/),
        expect.stringMatching(/StatefulSet\/ledger .*Secret node-key, which is neither here nor operator-made/),
        expect.stringMatching(/image tag 9 is not/),
        expect.stringMatching(/sets LEDGER_ROLL, which ledger does not read/),
        expect.stringMatching(/gets ORG_NAME from a ConfigMap, which no app reads/),
      ]),
    );
  });

  it('the ordering topic has one partition and the settings the ledger node requires; every event topic and its dead-letter topic exist', () => {
    const topics = new Map(ofKind('KafkaTopic').map((r) => [r.doc.spec.topicName ?? r.doc.metadata.name, r.doc]));
    const chainId = ofKind('ConfigMap').find((r) => r.doc.metadata.name === 'alliance-config')!.doc.data.CHAIN_ID;
    const ordering = topics.get(`ledger.${chainId}.ordering.v1`)!;
    expect(ordering.spec).toMatchObject({ partitions: 1, replicas: 3 });
    expect(ordering.spec.config).toEqual({ 'message.timestamp.type': 'LogAppendTime', 'retention.ms': -1, 'retention.bytes': -1, 'cleanup.policy': 'delete', 'unclean.leader.election.enable': false, 'min.insync.replicas': 2, 'max.message.bytes': 2 * 1_048_576 });
    for (const topic of Object.values(Topics)) {
      for (const name of [topic.name, `${topic.name}.dlq`]) {
        expect(topics.get(name)?.spec, name).toMatchObject({ replicas: 3, config: { 'min.insync.replicas': 2, 'max.message.bytes': 16 * 1024 * 1024 + 64 * 1024 } });
      }
    }
    expect(topics.size).toBe(1 + 2 * Object.values(Topics).length);
  });

  it('Kafka: KRaft node pools, replication 3 / min ISR 2, the brokers the services name, one KafkaUser per organization', () => {
    const [kafka] = ofKind('Kafka');
    expect(kafka!.doc.metadata.annotations).toMatchObject({ 'strimzi.io/kraft': 'enabled', 'strimzi.io/node-pools': 'enabled' });
    const pools = ofKind('KafkaNodePool');
    expect(pools.flatMap((p) => p.doc.spec.roles).sort()).toEqual(['broker', 'controller']);
    for (const p of pools) expect(p.doc.spec.replicas).toBeGreaterThanOrEqual(3);
    expect(kafka!.doc.spec.kafka.config).toMatchObject({ 'default.replication.factor': 3, 'min.insync.replicas': 2, 'unclean.leader.election.enable': false, 'auto.create.topics.enable': false });
    for (const r of rendered.filter((d) => d.doc.metadata?.labels?.['strimzi.io/cluster'])) expect(r.doc.metadata.labels['strimzi.io/cluster']).toBe(kafka!.doc.metadata.name);
    // One listener, authenticated over TLS: nothing reaches the brokers without a KafkaUser's password.
    const listeners = kafka!.doc.spec.kafka.listeners as Array<{ port: number; tls: boolean; authentication?: { type: string } }>;
    expect(listeners.map((l) => [l.tls, l.authentication?.type])).toEqual([[true, 'scram-sha-512']]);
    expect(kafka!.doc.spec.kafka.authorization.superUsers ?? []).toEqual([]);
    const brokers = `${kafka!.doc.metadata.name}-kafka-bootstrap.${kafka!.doc.metadata.namespace}.svc:${listeners[0]!.port}`;
    for (const cm of ofKind('ConfigMap').filter((r) => r.doc.metadata.name === 'alliance-config')) {
      expect(cm.doc.data).toMatchObject({ KAFKA_BROKERS: brokers, KAFKA_SECURITY_PROTOCOL: 'sasl_ssl', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: cm.doc.data.ORG_ID });
    }
    // Every Kafka client pod mounts the password and CA files its configuration names.
    for (const r of rendered.filter((d) => d.doc.spec?.template?.metadata?.labels?.['alliance.io/kafka-client'] === 'true')) {
      const spec = r.doc.spec.template.spec;
      const volume = spec.volumes.find((v: { name: string }) => v.name === 'kafka-credentials');
      expect(volume?.projected.sources.map((x: { secret: { name: string } }) => x.secret.name), r.source).toEqual(['alliance-kafka-user', 'alliance-kafka-ca']);
      for (const c of spec.containers) expect(c.volumeMounts.find((m: { name: string }) => m.name === 'kafka-credentials')?.mountPath, r.source).toBe('/etc/alliance/kafka');
    }
    expect(ofKind('KafkaUser').map((r) => r.doc.metadata.name).sort()).toEqual([...ORGS].sort());
    for (const user of ofKind('KafkaUser')) {
      const groups = user.doc.spec.authorization.acls.filter((a: { resource: { type: string } }) => a.resource.type === 'group').map((a: { resource: { name: string } }) => a.resource.name);
      expect(groups).toContain(`ledger.${'alliance-main'}.${user.doc.metadata.name}`);
      for (const g of groups) expect(g.endsWith(user.doc.metadata.name)).toBe(true);
    }
  });

  it('members sign with a node key; the regulator observes with none and its read models hold no agent keys', () => {
    const env = (org: string, kind: string, name: string) => {
      const r = rendered.find((d) => d.doc.metadata?.namespace === `alliance-${org}` && d.doc.kind === kind && d.doc.metadata.name === name)!;
      return Object.fromEntries(r.doc.spec.template.spec.containers[0].env.map((e: { name: string; value?: string }) => [e.name, e.value ?? 'from-secret']));
    };
    for (const org of ['org1', 'org2', 'org3']) expect(env(org, 'StatefulSet', 'ledger')).toMatchObject({ LEDGER_ROLE: 'member', LEDGER_NODE_KEY_FILE: expect.any(String) });
    expect(env('regulator', 'StatefulSet', 'ledger').LEDGER_ROLE).toBe('observer');
    expect(env('regulator', 'StatefulSet', 'ledger').LEDGER_NODE_KEY_FILE).toBeUndefined();
    expect(env('regulator', 'Deployment', 'provenance').PROVENANCE_SIGNING_KEY_FILE).toBeUndefined();
    expect(env('regulator', 'Deployment', 'finance').FINANCE_SIGNING_KEY_FILE).toBeUndefined();
    expect(env('regulator', 'Deployment', 'audit').AUDIT_MEMBER_NODES).toBe(['org1', 'org2', 'org3'].map((o) => `${o}=http://ledger.alliance-${o}.svc:3000`).join(','));
  });
});
