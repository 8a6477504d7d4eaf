/**
 * deploy/k8s cannot be applied here (no cluster), so this suite checks what a cluster would:
 * every object against the Kubernetes API schemas (kubernetes-models), and the rules the manifests
 * exist for: probes, requests, autoscaling, disruption budgets, and who may reach whom.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { envSchema } from '@umi/kit';
import * as apps from 'kubernetes-models/apps/v1';
import * as autoscaling from 'kubernetes-models/autoscaling/v2';
import * as batch from 'kubernetes-models/batch/v1';
import * as core from 'kubernetes-models/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as policy from 'kubernetes-models/policy/v1';

const dir = join(__dirname, '..', 'deploy', 'k8s');

type Labels = Record<string, string>;
interface Selector {
  matchLabels?: Labels;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Labels };
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- checked per kind below
  data?: Record<string, string>;
}

const models: Record<string, Record<string, new (o: unknown) => { validate(): void }>> = {
  'apps/v1': apps as never,
  'autoscaling/v2': autoscaling as never,
  'batch/v1': batch as never,
  v1: core as never,
  'networking.k8s.io/v1': networking as never,
  'policy/v1': policy as never,
};

const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
const kustomization = files.includes('kustomization.yaml');
const objects: (Obj & { file: string })[] = files
  .filter((f) => f !== 'kustomization.yaml')
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
      return { ...(doc.toJS() as Obj), file };
    }),
  );
const ofKind = (kind: string) => objects.filter((o) => o.kind === kind);
const deployments = ofKind('Deployment');
const SUBGRAPHS = ['tenant', 'pharmacy', 'inventory', 'pos'];

function matches(selector: Selector | undefined, labels: Labels): boolean {
  if (!selector) return false;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpr = (selector.matchExpressions ?? []).every((e) => {
    if (e.operator === 'In') return e.values!.includes(labels[e.key]!);
    if (e.operator === 'Exists') return e.key in labels;
    throw new Error(`operator ${e.operator} not modelled`);
  });
  return byLabels && byExpr;
}
const podLabels = (name: string): Labels => {
  const d = objects.find((o) => (o.kind === 'Deployment' || o.kind === 'Job') && o.metadata.name === name);
  if (!d) throw new Error(`no workload ${name}`);
  return d.spec.template.metadata.labels as Labels;
};

/** The pods (by workload name) allowed to reach a pod with these labels, under the namespace's policies. */
function allowedSources(target: Labels): { any: boolean; from: Set<string> } {
  const workloads = [...deployments, ...ofKind('Job')].map((o) => o.metadata.name);
  const from = new Set<string>();
  let any = false;
  for (const np of ofKind('NetworkPolicy')) {
    if (!matches(np.spec.podSelector, target) && Object.keys(np.spec.podSelector).length > 0) continue;
    for (const rule of (np.spec.ingress ?? []) as { from?: { podSelector?: Selector; namespaceSelector?: Selector }[] }[]) {
      if (!rule.from) {
        any = true;
        continue;
      }
      for (const peer of rule.from) {
        // A peer with a namespaceSelector admits pods of other namespaces: only the scraper may do that.
        if (peer.namespaceSelector) {
          expect(peer.podSelector?.matchLabels?.['umi.health/scraper']).toBe('true');
          continue;
        }
        for (const w of workloads) if (matches(peer.podSelector, podLabels(w))) from.add(w);
      }
    }
  }
  return { any, from };
}

describe('Kubernetes manifests', () => {
  it('validate against the Kubernetes API schemas', () => {
    expect(objects.length).toBeGreaterThan(20);
    for (const o of objects) {
      const Model = models[o.apiVersion]?.[o.kind];
      if (!Model) throw new Error(`${o.file}: no schema for ${o.apiVersion} ${o.kind}`);
      const { file: _file, ...manifest } = o;
      expect(() => new Model(manifest).validate()).not.toThrow();
      if (o.kind !== 'Namespace') expect(o.metadata.namespace).toBe('umi-health');
    }
  });

  it('the schema check catches a broken manifest (the check itself can fail)', () => {
    const d = structuredClone(deployments[0]!);
    d.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    const { file: _file, ...manifest } = d;
    expect(() => new apps.Deployment(manifest as never).validate()).toThrow(/containerPort/);
  });

  it('kustomization lists every manifest', () => {
    expect(kustomization).toBe(true);
    const k = parseAllDocuments(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'))[0]!.toJS() as { resources: string[] };
    expect([...k.resources].sort()).toEqual(files.filter((f) => f !== 'kustomization.yaml').sort());
  });

  it('runs the gateway, every subgraph, the relay, the fiscal worker and the job runner, each with probes, requests and a disruption budget', () => {
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['fiscal', 'gateway', 'inventory', 'jobs', 'pharmacy', 'pos', 'relay', 'tenant']);
    for (const d of deployments) {
      const [c] = d.spec.template.spec.containers;
      expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(c.ports.map((p: { name: string }) => p.name)).toContain('http');
      expect(c.resources.requests.cpu).toBeTruthy();
      expect(c.resources.requests.memory).toBeTruthy();
      expect(matches(d.spec.selector, d.spec.template.metadata.labels)).toBe(true);
      const pdbs = ofKind('PodDisruptionBudget').filter((p) => matches(p.spec.selector, d.spec.template.metadata.labels));
      expect(pdbs).toHaveLength(1);
    }
  });

  it('autoscales the request-serving processes on CPU', () => {
    for (const name of ['gateway', ...SUBGRAPHS]) {
      const hpa = ofKind('HorizontalPodAutoscaler').find((h) => h.spec.scaleTargetRef.name === name);
      expect(hpa?.spec.scaleTargetRef.kind).toBe('Deployment');
      expect(hpa!.spec.minReplicas).toBeGreaterThanOrEqual(2);
      expect(hpa!.spec.metrics).toContainEqual(expect.objectContaining({ type: 'Resource', resource: expect.objectContaining({ name: 'cpu' }) }));
    }
  });

  it('reads only variables the code declares, and the port each process listens on', () => {
    const declared = new Set([...Object.keys(envSchema.shape), 'APOLLO_TELEMETRY_DISABLED']);
    const config = ofKind('ConfigMap').find((c) => c.metadata.name === 'umi-config')!;
    for (const key of Object.keys(config.data!)) expect(declared).toContain(key);
    for (const d of deployments) {
      const [c] = d.spec.template.spec.containers;
      for (const e of c.env ?? []) expect(declared).toContain(e.name);
    }
    const portVar: Record<string, string> = { gateway: 'PORT', tenant: 'TENANT_PORT', pharmacy: 'PHARMACY_PORT', inventory: 'INVENTORY_PORT', pos: 'POS_PORT', relay: 'RELAY_PORT', fiscal: 'FISCAL_PORT', jobs: 'JOBS_PORT' };
    for (const d of deployments) {
      const [c] = d.spec.template.spec.containers;
      const http = c.ports.find((p: { name: string }) => p.name === 'http').containerPort;
      expect(c.env).toContainEqual({ name: portVar[d.metadata.name], value: String(http) });
    }
    // The gateway finds each subgraph through its Service.
    for (const s of SUBGRAPHS) {
      const svc = ofKind('Service').find((x) => x.metadata.name === s)!;
      expect(config.data![`${s.toUpperCase()}_URL`]).toBe(`http://${s}:${svc.spec.ports[0].port}/graphql`);
    }
  });

  it('lets only the gateway reach the subgraphs, and only the services reach PostgreSQL and Redis', () => {
    const defaultDeny = ofKind('NetworkPolicy').find((p) => Object.keys(p.spec.podSelector).length === 0 && !p.spec.ingress);
    expect(defaultDeny?.spec.policyTypes).toContain('Ingress');
    expect(allowedSources(podLabels('gateway')).any).toBe(true);
    for (const s of SUBGRAPHS) {
      const { any, from } = allowedSources(podLabels(s));
      expect(any).toBe(false);
      expect([...from]).toEqual(['gateway']);
    }
    const services = ['fiscal', 'gateway', 'inventory', 'jobs', 'migrate', 'pharmacy', 'pos', 'relay', 'tenant'];
    for (const store of ['postgres', 'redis']) {
      const { any, from } = allowedSources({ 'app.kubernetes.io/name': store });
      expect(any).toBe(false);
      expect([...from].sort()).toEqual(services);
    }
  });

  it('serves metrics on a port of its own, which only the scraper may reach', () => {
    const metricsPorts: number[] = [];
    for (const d of deployments.filter((x) => !['relay', 'fiscal', 'jobs'].includes(x.metadata.name))) {
      const [c] = d.spec.template.spec.containers;
      const ports = c.ports as { name: string; containerPort: number }[];
      const metrics = ports.find((p) => p.name === 'metrics');
      expect({ name: d.metadata.name, metrics: metrics?.containerPort }).toEqual({ name: d.metadata.name, metrics: expect.any(Number) });
      expect(metrics!.containerPort).not.toBe(ports.find((p) => p.name === 'http')!.containerPort);
      metricsPorts.push(metrics!.containerPort);
    }
    const scraper = ofKind('NetworkPolicy').find((np) => np.metadata.name === 'metrics-from-scraper')!;
    const allowed = (scraper.spec.ingress as { ports: { port: number }[] }[]).flatMap((r) => r.ports.map((p) => p.port));
    for (const port of metricsPorts) expect(allowed).toContain(port);
    for (const api of [4000, 4001, 4002, 4003, 4004]) expect(allowed).not.toContain(api);
    // The workers serve no API: their probe port carries /metrics, and the scraper reaches it.
    for (const worker of ['relay', 'fiscal', 'jobs']) {
      const d = deployments.find((x) => x.metadata.name === worker)!;
      expect(allowed).toContain(d.spec.template.spec.containers[0].ports[0].containerPort);
    }
  });

  it('lets the job runner out to PostgreSQL (and Redis, DNS, HTTPS) only', () => {
    const egress = ofKind('NetworkPolicy').filter((np) => (np.spec.policyTypes as string[]).includes('Egress') && matches(np.spec.podSelector, podLabels('jobs')));
    expect(egress).toHaveLength(1);
    const rules = egress[0]!.spec.egress as { to: { podSelector?: { matchLabels?: Record<string, string> } }[]; ports: { port: number }[] }[];
    const toPostgres = rules.find((r) => r.to.some((t) => t.podSelector?.matchLabels?.['app.kubernetes.io/name'] === 'postgres'));
    expect(toPostgres?.ports.map((p) => p.port)).toEqual([5432]);
  });
});
