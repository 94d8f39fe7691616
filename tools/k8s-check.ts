// Offline checks of deploy/k8s (tools/k8s.spec.ts): a small renderer for the
// Kustomize features the manifests use, validation of core kinds with the
// kubernetes-models validators (compiled from the Kubernetes 1.36.0 OpenAPI
// schema) and of the operators' custom resources with the schemas vendored in
// deploy/k8s/schemas, and cross-reference rules no schema expresses.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import Ajv from 'ajv';
import { parseAllDocuments } from 'yaml';

export type Manifest = Record<string, any>;
export interface Rendered {
  readonly source: string;
  readonly doc: Manifest;
}

const REPO = join(__dirname, '..');
export const K8S_DIR = join(REPO, 'deploy/k8s');

export function parseYamlFile(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(file, 'utf8'), { uniqueKeys: true })
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`${relative(REPO, file)}: ${d.errors[0]!.message}`);
      return d.toJS() as Manifest | null;
    })
    .filter((d): d is Manifest => d !== null && typeof d === 'object');
}

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition']);
/** Strategic-merge keys of the lists the manifests patch (Kubernetes' patchMergeKey). */
const MERGE_KEYS = ['name', 'mountPath'];

/** Strategic merge patch, for maps and lists keyed by name/mountPath; `$patch: delete` removes a list element. */
export function strategicMerge(base: unknown, patch: unknown): unknown {
  if (Array.isArray(patch) && Array.isArray(base)) {
    const key = MERGE_KEYS.find((k) => patch.every((p) => p && typeof p === 'object' && k in p) && base.every((b) => b && typeof b === 'object' && k in b));
    if (!key) return patch.filter((p) => !(p && typeof p === 'object' && p.$patch === 'delete'));
    const out = base.map((b) => ({ ...b }));
    for (const p of patch) {
      const at = out.findIndex((b) => b[key] === p[key]);
      if (p.$patch === 'delete') {
        if (at < 0) throw new Error(`strategic merge: no element with ${key}=${p[key]} to delete`);
        out.splice(at, 1);
      } else if (at >= 0) out[at] = strategicMerge(out[at], p);
      else out.push(p);
    }
    return out;
  }
  if (patch && typeof patch === 'object' && !Array.isArray(patch) && base && typeof base === 'object' && !Array.isArray(base)) {
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete out[k];
      else out[k] = k in out ? strategicMerge(out[k], v) : v;
    }
    return out;
  }
  return patch;
}

/** Renders a kustomization directory: resources (files and directories), patches, namespace, labels. Refuses fields it does not implement. */
export function renderKustomization(dir: string): Rendered[] {
  const file = join(dir, 'kustomization.yaml');
  const [k] = parseYamlFile(file);
  if (!k || k.kind !== 'Kustomization') throw new Error(`${relative(REPO, file)}: not a Kustomization`);
  const known = new Set(['apiVersion', 'kind', 'resources', 'patches', 'namespace', 'labels']);
  for (const field of Object.keys(k)) if (!known.has(field)) throw new Error(`${relative(REPO, file)}: field ${field} is not rendered by tools/k8s-check.ts`);
  let out: Rendered[] = [];
  for (const resource of (k.resources ?? []) as string[]) {
    const path = join(dir, resource);
    if (!existsSync(path)) throw new Error(`${relative(REPO, file)}: resource ${resource} does not exist`);
    if (statSync(path).isDirectory()) out.push(...renderKustomization(path));
    else out.push(...parseYamlFile(path).map((doc) => ({ source: relative(K8S_DIR, path), doc })));
  }
  for (const p of (k.patches ?? []) as Array<{ path?: string; patch?: string }>) {
    const docs = p.path ? parseYamlFile(join(dir, p.path)) : parseAllDocuments(p.patch ?? '').map((d) => d.toJS() as Manifest);
    for (const patch of docs) {
      const at = out.findIndex((r) => r.doc.kind === patch.kind && r.doc.metadata?.name === patch.metadata?.name);
      if (at < 0) throw new Error(`${relative(REPO, file)}: patch target ${patch.kind}/${patch.metadata?.name} not found`);
      out[at] = { ...out[at]!, doc: strategicMerge(out[at]!.doc, patch) as Manifest };
    }
  }
  if (k.namespace) out = out.map((r) => (CLUSTER_SCOPED.has(r.doc.kind) ? r : { ...r, doc: { ...r.doc, metadata: { ...r.doc.metadata, namespace: k.namespace } } }));
  for (const { pairs } of (k.labels ?? []) as Array<{ pairs: Record<string, string> }>) {
    out = out.map((r) => ({ ...r, doc: { ...r.doc, metadata: { ...r.doc.metadata, labels: { ...r.doc.metadata?.labels, ...pairs } } } }));
  }
  return out;
}

// --- schemas -----------------------------------------------------------------

/** The custom resources and the vendored schema each is validated with. */
export const CUSTOM_RESOURCE_SCHEMAS: Record<string, string> = {
  'kafka.strimzi.io/v1beta2 Kafka': 'kafka.v1beta2.excerpt.json',
  'kafka.strimzi.io/v1beta2 KafkaNodePool': 'kafkanodepool.v1beta2.excerpt.json',
  'kafka.strimzi.io/v1beta2 KafkaTopic': 'kafkatopic.v1beta2.json',
  'kafka.strimzi.io/v1beta2 KafkaUser': 'kafkauser.v1beta2.json',
  'postgresql.cnpg.io/v1 Cluster': 'cnpg-cluster.v1.excerpt.json',
};

const ajv = new Ajv({ allErrors: false, strict: false });
const crValidators = new Map<string, ReturnType<typeof ajv.compile>>();

/** kubernetes-models module of a core kind: `kubernetes-models/<group>/<version>/<Kind>` (`v1/<Kind>` for the core group). */
function coreModelPath(apiVersion: string, kind: string): string {
  return `kubernetes-models/${apiVersion}/${kind}`;
}

/** Validates one document; resolves to undefined or `<source> <kind>/<name>: <path> <message>` naming the first invalid field. */
export async function validateManifest(r: Rendered): Promise<string | undefined> {
  const { apiVersion, kind } = r.doc;
  const where = `${r.source} ${kind}/${r.doc.metadata?.name ?? '?'}`;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return `${where}: apiVersion and kind are required`;
  const cr = CUSTOM_RESOURCE_SCHEMAS[`${apiVersion} ${kind}`];
  if (cr) {
    let validate = crValidators.get(cr);
    if (!validate) {
      validate = ajv.compile(JSON.parse(readFileSync(join(K8S_DIR, 'schemas', cr), 'utf8')));
      crValidators.set(cr, validate);
    }
    if (validate(r.doc)) return undefined;
    const e = validate.errors![0]!;
    const extra = e.keyword === 'additionalProperties' ? ` (${(e.params as { additionalProperty: string }).additionalProperty})` : '';
    return `${where}: ${e.instancePath || '/'} ${e.message}${extra}`;
  }
  if (apiVersion.includes('.') && !apiVersion.includes('k8s.io/')) return `${where}: no schema for ${apiVersion} ${kind}`;
  let Model: new (data: unknown) => { validate(): void };
  try {
    Model = (await import(coreModelPath(apiVersion, kind)))[kind];
  } catch {
    return `${where}: ${apiVersion} ${kind} is not a Kubernetes 1.36 kind`;
  }
  try {
    new Model(r.doc).validate();
    return undefined;
  } catch (error) {
    const e = (error as { errors?: Array<{ instancePath: string; message?: string }> }).errors?.[0];
    return `${where}: ${e ? `${e.instancePath || '/'} ${e.message}` : (error as Error).message}`;
  }
}

// --- cross-references --------------------------------------------------------

const matches = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

export interface ReferenceRules {
  /** ConfigMaps and Secrets that operators (people or Kubernetes operators) create, each named in deploy/k8s/README.md. */
  readonly operatorMade: readonly string[];
  /** The environment variables each app reads (base platform plus its config.ts). */
  readonly variablesOf: (app: string) => ReadonlySet<string>;
  /** The union over every app. */
  readonly variablesOfAny: ReadonlySet<string>;
  readonly imageTag: string;
}

export function podTemplates(docs: readonly Rendered[]): Array<{ r: Rendered; labels: Record<string, string>; spec: Manifest }> {
  return docs.filter((r) => ['Deployment', 'StatefulSet'].includes(r.doc.kind)).map((r) => ({ r, labels: r.doc.spec?.template?.metadata?.labels ?? {}, spec: r.doc.spec?.template?.spec ?? {} }));
}

/** Every problem of one namespace's references, as `<source> <kind>/<name>: …`. */
export function checkReferences(docs: readonly Rendered[], rules: ReferenceRules): string[] {
  const problems: string[] = [];
  const byNs = new Map<string, Rendered[]>();
  for (const r of docs) byNs.set(r.doc.metadata?.namespace ?? '', [...(byNs.get(r.doc.metadata?.namespace ?? '') ?? []), r]);
  for (const [ns, list] of byNs) {
    const named = (kind: string) => new Set(list.filter((r) => r.doc.kind === kind).map((r) => r.doc.metadata?.name as string));
    const configMaps = named('ConfigMap');
    const secrets = named('Secret');
    const templates = podTemplates(list);
    const at = (r: Rendered) => `${r.source} ${r.doc.kind}/${r.doc.metadata?.name} (namespace ${ns || '-'})`;
    for (const r of list) {
      if (r.doc.kind === 'Service' && !templates.some((t) => matches(r.doc.spec?.selector, t.labels))) problems.push(`${at(r)}: selector matches no pod template`);
      if (r.doc.kind === 'PodDisruptionBudget' && !templates.some((t) => matches(r.doc.spec?.selector?.matchLabels, t.labels))) problems.push(`${at(r)}: selector matches no pod template`);
      if (r.doc.kind === 'HorizontalPodAutoscaler') {
        const target = r.doc.spec?.scaleTargetRef;
        if (!list.some((d) => d.doc.kind === target?.kind && d.doc.metadata?.name === target?.name)) problems.push(`${at(r)}: scaleTargetRef ${target?.kind}/${target?.name} does not exist`);
      }
      if (['Deployment', 'StatefulSet'].includes(r.doc.kind) && !matches(r.doc.spec?.selector?.matchLabels, r.doc.spec?.template?.metadata?.labels)) problems.push(`${at(r)}: selector does not match its own template`);
    }
    const exists = (kind: 'ConfigMap' | 'Secret', name: string) => (kind === 'ConfigMap' ? configMaps : secrets).has(name) || rules.operatorMade.includes(name);
    for (const { r, spec } of templates) {
      for (const v of spec.volumes ?? []) {
        if (v.configMap && !exists('ConfigMap', v.configMap.name)) problems.push(`${at(r)}: volume ${v.name} names ConfigMap ${v.configMap.name}, which is neither here nor operator-made`);
        if (v.secret && !exists('Secret', v.secret.secretName)) problems.push(`${at(r)}: volume ${v.name} names Secret ${v.secret.secretName}, which is neither here nor operator-made`);
        for (const source of v.projected?.sources ?? []) {
          if (source.secret && !exists('Secret', source.secret.name)) problems.push(`${at(r)}: volume ${v.name} projects Secret ${source.secret.name}, which is neither here nor operator-made`);
          if (source.configMap && !exists('ConfigMap', source.configMap.name)) problems.push(`${at(r)}: volume ${v.name} projects ConfigMap ${source.configMap.name}, which is neither here nor operator-made`);
        }
      }
      for (const c of spec.containers ?? []) {
        const mounts = new Set((c.volumeMounts ?? []).map((m: Manifest) => m.name));
        for (const m of mounts) if (!(spec.volumes ?? []).some((v: Manifest) => v.name === m)) problems.push(`${at(r)}: container ${c.name} mounts undeclared volume ${m}`);
        for (const from of c.envFrom ?? []) {
          if (from.configMapRef && !exists('ConfigMap', from.configMapRef.name)) problems.push(`${at(r)}: envFrom ConfigMap ${from.configMapRef.name} missing`);
          if (from.secretRef && !exists('Secret', from.secretRef.name)) problems.push(`${at(r)}: envFrom Secret ${from.secretRef.name} missing`);
        }
        const image = /^alliance\/([a-z-]+):(.+)$/.exec(c.image ?? '');
        if (!image) problems.push(`${at(r)}: image ${c.image} is not alliance/<service>:<tag>`);
        else {
          if (image[1] !== c.name) problems.push(`${at(r)}: container ${c.name} runs image of ${image[1]}`);
          if (image[2] !== rules.imageTag) problems.push(`${at(r)}: image tag ${image[2]} is not ${rules.imageTag}`);
        }
        const known = rules.variablesOf(image?.[1] ?? c.name);
        const envFromNames = (c.envFrom ?? []).flatMap((f: Manifest) => Object.keys(list.find((d) => d.doc.kind === 'ConfigMap' && d.doc.metadata?.name === f.configMapRef?.name)?.doc.data ?? {}));
        // A shared ConfigMap (envFrom) may hold what any app reads; a variable set on the container, only what this app reads.
        for (const name of envFromNames) if (!rules.variablesOfAny.has(name)) problems.push(`${at(r)}: container ${c.name} gets ${name} from a ConfigMap, which no app reads`);
        for (const e of c.env ?? []) {
          if (!known.has(e.name)) problems.push(`${at(r)}: container ${c.name} sets ${e.name}, which ${c.name} does not read`);
          const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
          if (e.valueFrom?.secretKeyRef && !exists('Secret', ref.name)) problems.push(`${at(r)}: env ${e.name} names Secret ${ref.name}, which is neither here nor operator-made`);
          if (e.valueFrom?.configMapKeyRef && !exists('ConfigMap', ref.name)) problems.push(`${at(r)}: env ${e.name} names ConfigMap ${ref.name}, which is neither here nor operator-made`);
        }
        for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
          const path = c[probe]?.httpGet?.path;
          if (!['/health/live', '/health/ready'].includes(path)) problems.push(`${at(r)}: ${probe} of ${c.name} is ${path ?? 'missing'}, not /health/live or /health/ready`);
        }
        if (!c.resources?.requests?.cpu || !c.resources?.limits?.memory) problems.push(`${at(r)}: container ${c.name} has no cpu request or memory limit`);
      }
    }
  }
  return problems;
}

/** Variable names declared in a config shape file: `  NAME: field…` lines. */
export function configVariables(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/^\s+([A-Z][A-Z0-9_]+): field\./gm)].map((m) => m[1]!);
}

export const repoPath = (...parts: string[]) => join(REPO, ...parts);
