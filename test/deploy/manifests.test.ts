// The deploy/ files: every Kubernetes manifest passes the Kubernetes API schema (kubernetes-models' validator),
// and the pieces fit together (probes on /v1/status, GPU request, RWX volume mounted, Secret for the database
// URL and key, Service selecting the pods). docker-compose.yml is checked for what the README promises.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Service } from 'kubernetes-models/v1/Service';
import { Secret } from 'kubernetes-models/v1/Secret';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';

const DEPLOY = fileURLToPath(new URL('../../deploy/', import.meta.url));
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'v1/Secret': Secret,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
};

async function manifests(): Promise<any[]> {
  const dir = join(DEPLOY, 'kubernetes');
  const docs: any[] = [];
  for (const f of (await readdir(dir)).filter((x) => x.endsWith('.yaml')).sort()) {
    for (const d of parseAllDocuments(await readFile(join(dir, f), 'utf8'))) {
      assert.deepEqual(d.errors, [], f);
      docs.push(d.toJS());
    }
  }
  return docs;
}

test('every Kubernetes manifest in deploy/kubernetes/ is valid against the Kubernetes API schema', async () => {
  const docs = await manifests();
  assert.deepEqual(docs.map((d) => d.kind).sort(), ['Deployment', 'PersistentVolumeClaim', 'Secret', 'Service']);
  for (const d of docs) {
    const Model = MODELS[`${d.apiVersion}/${d.kind}`];
    assert.ok(Model, `${d.apiVersion} ${d.kind} is a known kind`);
    assert.doesNotThrow(() => new Model(d).validate(), `${d.kind} ${d.metadata?.name}`);
  }
  // The validator is not a rubber stamp: a misspelt field and a wrong type are refused.
  const deployment = docs.find((d) => d.kind === 'Deployment');
  assert.throws(() => new Deployment({ ...deployment, spec: { ...deployment.spec, replicas: 'three' } }).validate());
  assert.throws(() => new Deployment({ ...deployment, spec: { ...deployment.spec, template: undefined } }).validate());
});

test('the Deployment probes /v1/status, requests a GPU, mounts the RWX volume and reads the Secret; the Service selects its pods', async () => {
  const docs = await manifests();
  const dep = docs.find((d) => d.kind === 'Deployment');
  const pvc = docs.find((d) => d.kind === 'PersistentVolumeClaim');
  const secret = docs.find((d) => d.kind === 'Secret');
  const svc = docs.find((d) => d.kind === 'Service');
  const pod = dep.spec.template.spec;
  const c = pod.containers[0];
  assert.ok(dep.spec.replicas >= 2);
  for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) assert.match(c[probe].exec.command.join(' '), /127\.0\.0\.1:8080\/v1\/status/, probe);
  assert.equal(c.resources.limits['nvidia.com/gpu'], '1');
  assert.deepEqual(pvc.spec.accessModes, ['ReadWriteMany']);
  const vol = pod.volumes.find((v: any) => v.persistentVolumeClaim?.claimName === pvc.metadata.name);
  assert.ok(vol, 'the pods mount the claim');
  const mount = c.volumeMounts.find((m: any) => m.name === vol.name);
  const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value]));
  assert.ok(env.ANONYMISER_INPUT.startsWith(`${mount.mountPath}/`) && env.ANONYMISER_OUTPUT.startsWith(`${mount.mountPath}/`));
  assert.equal(c.envFrom[0].secretRef.name, secret.metadata.name);
  assert.deepEqual(Object.keys(secret.stringData).sort(), ['ANONYMISER_API_KEY', 'ANONYMISER_DATABASE_URL']);
  assert.match(secret.stringData.ANONYMISER_DATABASE_URL, /^postgres:\/\//);
  assert.ok(pod.terminationGracePeriodSeconds > 30, 'longer than the 30 s shutdown grace');
  for (const [k, v] of Object.entries(svc.spec.selector)) assert.equal(dep.spec.template.metadata.labels[k], v);
  assert.equal(svc.spec.ports[0].targetPort, c.ports[0].name);
});

test('docker-compose.yml runs PostgreSQL, 3 replicas on one data volume and the database URL, behind nginx', async () => {
  const compose = parse(await readFile(join(DEPLOY, 'docker-compose.yml'), 'utf8'));
  const app = compose.services.anonymiser;
  assert.equal(app.deploy.replicas, 3);
  assert.match(app.environment.ANONYMISER_DATABASE_URL, /^postgres:\/\/.*@postgres:5432\//);
  assert.deepEqual(app.volumes, ['data:/data']);
  assert.ok(app.environment.ANONYMISER_INPUT.startsWith('/data/') && app.environment.ANONYMISER_OUTPUT.startsWith('/data/'));
  assert.equal(app.depends_on.postgres.condition, 'service_healthy');
  assert.ok('data' in compose.volumes && 'pgdata' in compose.volumes);
  assert.deepEqual(compose.services.loadbalancer.ports, ['8080:8080']);
  const nginx = await readFile(join(DEPLOY, 'nginx.conf'), 'utf8');
  assert.match(nginx, /server anonymiser:8080/);
  assert.match(nginx, /client_max_body_size 500m/);
});
