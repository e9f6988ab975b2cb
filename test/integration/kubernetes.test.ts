import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { startSlackStandin } from '../../dev/slack/standin.js';
import { ENVIRONMENT_VARIABLES, loadConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/log.js';
import { loadPolicy } from '../../shared/policy/index.js';
import { generateSigningKeySet, loadSigningKeys } from '../../shared/tokens/index.js';
import { type Role, startSystem } from '../../system/start.js';
import { REDIS_TARGET, testRedis } from '../support/redis.js';

/**
 * deploy/kubernetes checked twice over: against the Kubernetes schemas (kubernetes-models), and
 * against jitgate itself: the variables its config reads, the ports it listens on, the routes its
 * processes really serve (each role started here and its probes' paths requested), the policy it
 * loads.
 */
const DIR = 'deploy/kubernetes';

// The types used in deploy/kubernetes; a manifest of any other kind fails the test until added here.
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
};

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: parsed YAML, checked by the Kubernetes schema first
  [field: string]: any;
}

const readManifests = (file: string): Manifest[] =>
  parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`);
    return d.toJS() as Manifest;
  });

const kustomization = readManifests('kustomization.yaml')[0]! as unknown as { resources: string[] };
const applied = kustomization.resources.flatMap((file) => readManifests(file).map((m) => ({ file, m })));
const examples = readManifests('secrets.example.yaml').map((m) => ({ file: 'secrets.example.yaml', m }));
const all = [...applied, ...examples];
const ofKind = (kind: string) => all.filter(({ m }) => m.kind === kind).map(({ m }) => m);
const named = (kind: string, name: string) => {
  const found = ofKind(kind).find((m) => m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} named ${name}`);
  return found;
};
const deployments = ofKind('Deployment');

/** The roles a container's command starts (the entry files, as the image holds them compiled). */
function rolesOf(command: string[]): Role[] {
  const entry = command.at(-1)!;
  const roles: Record<string, Role[]> = {
    'dist/authorizer/main.js': ['authorizer'],
    'dist/bot/main.js': ['bot'], // JITGATE_WORKER=off, checked below
    'dist/bot/worker-main.js': ['worker'],
  };
  if (!roles[entry]) throw new Error(`unknown entry ${entry}`);
  return roles[entry];
}

/** A container's environment as the process sees it: the ConfigMaps it takes, then its own env. */
function environmentOf(container: Manifest): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? [])
    Object.assign(env, named('ConfigMap', from.configMapRef.name).data);
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) env[e.name] = named('Secret', ref.name).stringData[ref.key];
  }
  return env;
}

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
if (!hasKubectl) console.warn('kubectl is not installed: skipping the kustomize rendering check');

const firstContainer = (d: Manifest) => d.spec.template.spec.containers[0] as Manifest;

describe('deploy/kubernetes against the Kubernetes schemas', () => {
  it('when listing the folder, then kustomization.yaml names every manifest but the Secrets example', () => {
    const yamls = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
    expect([...kustomization.resources].sort()).toEqual(
      yamls.filter((f) => f !== 'kustomization.yaml' && f !== 'secrets.example.yaml').sort(),
    );
    expect(applied.some(({ m }) => m.kind === 'Secret')).toBe(false); // an apply never overwrites real Secrets
  });

  it('when each manifest is validated by kubernetes-models, then all pass; a broken one does not', () => {
    for (const { file, m } of all) {
      const Model = MODELS[`${m.apiVersion}/${m.kind}`];
      expect(Model, `${file}: ${m.apiVersion} ${m.kind}`).toBeDefined();
      expect(() => new Model!(m as never).validate(), `${file}: ${m.kind} ${m.metadata.name}`).not.toThrow();
    }
    expect(
      ofKind('Deployment')
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual(['jitgate-authorizer', 'jitgate-bot', 'jitgate-worker']);
    // The validator is not a formality: the same Deployment with mistakes is refused.
    const broken = structuredClone(named('Deployment', 'jitgate-authorizer'));
    broken.spec.replicas = 'two';
    expect(() => new Deployment(broken as never).validate()).toThrow(/replicas/);
    delete broken.spec.replicas;
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    expect(() => new Deployment(broken as never).validate()).toThrow(/containerPort/);
  });

  // kubectl is optional here (the schemas above are the check): it confirms what `apply -k` applies.
  it.runIf(hasKubectl)(
    'when kubectl renders the kustomization, then it holds exactly these objects, in the jitgate namespace',
    () => {
      const rendered = parseAllDocuments(
        execFileSync('kubectl', ['kustomize', DIR], { encoding: 'utf8' }),
      ).map((d) => d.toJS() as Manifest);
      const ids = (ms: Manifest[]) => ms.map((m) => `${m.kind}/${m.metadata.name}`).sort();
      expect(ids(rendered)).toEqual(ids(applied.map(({ m }) => m)));
      for (const m of rendered.filter((r) => r.kind !== 'Namespace'))
        expect(m.metadata.namespace).toBe('jitgate');
    },
  );
});

describe('deploy/kubernetes against what jitgate reads and serves', () => {
  it('when reading names and references, then Services, the budget and the autoscaler find their pods and ports', () => {
    for (const d of deployments) {
      for (const [k, v] of Object.entries(d.spec.selector.matchLabels))
        expect(d.spec.template.metadata.labels[k], d.metadata.name).toBe(v);
    }
    const podsOf = (selector: Record<string, string>) =>
      deployments.filter((d) =>
        Object.entries(selector).every(([k, v]) => d.spec.template.metadata.labels[k] === v),
      );
    for (const svc of ofKind('Service')) {
      const [target, ...more] = podsOf(svc.spec.selector);
      expect(target, `${svc.metadata.name} selects a Deployment`).toBeDefined();
      expect(more).toHaveLength(0);
      const portNames = firstContainer(target!).ports.map((p: { name: string }) => p.name);
      for (const p of svc.spec.ports) expect(portNames, svc.metadata.name).toContain(p.targetPort);
    }
    const pdb = named('PodDisruptionBudget', 'jitgate-authorizer');
    expect(podsOf(pdb.spec.selector.matchLabels).map((d) => d.metadata.name)).toEqual(['jitgate-authorizer']);
    const hpa = named('HorizontalPodAutoscaler', 'jitgate-authorizer');
    expect(named(hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name).metadata.name).toBe(
      'jitgate-authorizer',
    );
    expect(hpa.spec.minReplicas).toBeGreaterThan(pdb.spec.minAvailable); // a drain never blocks for good
    expect(named('Deployment', 'jitgate-authorizer').spec.replicas).toBe(hpa.spec.minReplicas);
  });

  it('when reading each container, then it runs as a non-root user on a read-only root with limits, writing only to an emptyDir', () => {
    const allowed = new Set([
      'name',
      'image',
      'imagePullPolicy',
      'command',
      'ports',
      'envFrom',
      'env',
      'readinessProbe',
      'livenessProbe',
      'resources',
      'securityContext',
      'volumeMounts',
    ]);
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      const c = firstContainer(d);
      const name = d.metadata.name;
      expect(pod.containers, name).toHaveLength(1);
      for (const key of Object.keys(c)) expect(allowed, `${name}: container key ${key}`).toContain(key); // typos are not schema errors
      expect(pod.automountServiceAccountToken, name).toBe(false);
      expect(pod.securityContext, name).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 1000,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(c.securityContext, name).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(c.resources.requests.cpu, name).toBeDefined();
      expect(c.resources.requests.memory, name).toBeDefined();
      expect(c.resources.limits.memory, name).toBeDefined();
      const tmp = c.volumeMounts.find((v: { mountPath: string }) => v.mountPath === '/tmp');
      expect(
        pod.volumes.find((v: { name: string }) => v.name === tmp?.name)?.emptyDir,
        `${name}: /tmp`,
      ).toBeDefined();
      for (const mount of c.volumeMounts.filter((v: { mountPath: string }) => v.mountPath !== '/tmp'))
        expect(mount.readOnly, `${name}: ${mount.mountPath}`).toBe(true);
      // The entry file exists as a source, and the image's user is the one named here.
      expect(
        existsSync(
          c.command
            .at(-1)
            .replace(/^dist\//, '')
            .replace(/\.js$/, '.ts'),
        ),
        name,
      ).toBe(true);
      expect(readFileSync('Dockerfile', 'utf8')).toMatch(/^USER node$/m);
    }
  });

  it('when reading each environment, then every variable is one jitgate reads, it parses, and the policy, keys and ports line up', async () => {
    for (const d of deployments) {
      const name = d.metadata.name;
      const c = firstContainer(d);
      const pod = d.spec.template.spec;
      const env = environmentOf(c);
      for (const variable of Object.keys(env))
        expect(ENVIRONMENT_VARIABLES, `${name}: ${variable}`).toContain(variable);
      const config = loadConfig(env);
      const roles = rolesOf(c.command);
      expect(c.command.slice(0, 1)).toEqual(['node']);

      // The policy: a ConfigMap mounted as a folder (a subPath mount would never see an update).
      const policyPath: string = config.JITGATE_POLICY;
      const mount = c.volumeMounts.find((v: { mountPath: string }) =>
        policyPath.startsWith(`${v.mountPath}/`),
      );
      expect(mount, `${name}: a mount holds ${policyPath}`).toBeDefined();
      expect(mount.subPath, name).toBeUndefined();
      const volume = pod.volumes.find((v: { name: string }) => v.name === mount.name);
      const policyMap = named('ConfigMap', volume.configMap.name);
      const policyText = policyMap.data[policyPath.slice(mount.mountPath.length + 1)];
      expect(policyText, `${name}: the ConfigMap has ${policyPath}`).toBeDefined();
      expect(() => loadPolicy(policyText, `${name}'s policy`)).not.toThrow();

      if (roles.includes('authorizer')) {
        const keysPath = config.JITGATE_SIGNING_KEYS!;
        const keysMount = c.volumeMounts.find((v: { mountPath: string }) =>
          keysPath.startsWith(`${v.mountPath}/`),
        );
        const keysVolume = pod.volumes.find((v: { name: string }) => v.name === keysMount.name);
        expect(named('Secret', keysVolume.secret.secretName).stringData).toHaveProperty(
          keysPath.slice(keysMount.mountPath.length + 1),
        );
        expect(keysVolume.secret.defaultMode & 0o004, 'keys are not world-readable').toBe(0);
        expect(pod.securityContext.fsGroup, 'the group can read the keys').toBe(1000);
        expect(c.ports.map((p: { containerPort: number }) => p.containerPort)).toEqual([
          config.AUTHORIZER_PORT,
        ]);
      }
      if (roles.includes('bot')) {
        expect(config.JITGATE_WORKER, 'the worker runs in its own Deployment').toBe('off');
        expect(config.SLACK_BOT_TOKEN).toBeDefined();
        expect(c.ports.map((p: { containerPort: number }) => p.containerPort)).toEqual([config.BOT_PORT]);
      }
      if (roles.includes('worker')) {
        expect(config.SLACK_BOT_TOKEN).toBeDefined();
        expect(c.ports, 'the worker listens on nothing').toBeUndefined();
      }
    }
  });
});

describe('the probes, against the processes themselves', () => {
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  it('when each role runs as its Deployment says (the bot over HTTP and in Socket Mode), then every probe path answers 200 on the port it names, and the worker has none', async () => {
    const test = await testRedis();
    stops.push(() => test.cleanup());
    const standin = await startSlackStandin({ unknownUsers: 'derived' });
    stops.push(() => standin.close());
    for (const d of deployments) {
      const c = firstContainer(d);
      const roles = rolesOf(c.command);
      const probes = [c.readinessProbe, c.livenessProbe].filter(Boolean);
      const system = await startSystem({
        roles,
        overrides: {
          redis: test.redis,
          redisUrl: REDIS_TARGET,
          prefix: test.prefix,
          policy: loadPolicy(firstPolicy()),
          signingKeys: await loadSigningKeys(JSON.stringify(await generateSigningKeySet('ES256'))),
          slack: { botToken: 'xoxb-test', signingSecret: 'secret' },
          slackApiUrl: standin.apiUrl,
          log: createLogger('k8s-test', 'silent'),
          botPort: 0,
          authorizerPort: 0,
          authorizerHost: '127.0.0.1',
        },
      });
      stops.push(() => system.stop());
      const url = system.authorizer?.url ?? system.bot?.url;
      if (!url) {
        expect(probes, `${d.metadata.name} serves no HTTP, so it has no probes`).toEqual([]);
        continue;
      }
      expect(probes.length, d.metadata.name).toBe(2);
      for (const probe of probes) {
        const port = c.ports.find((p: { name: string }) => p.name === probe.httpGet.port);
        expect(port, `${d.metadata.name}: probe port ${probe.httpGet.port}`).toBeDefined();
        const res = await fetch(`${url}${probe.httpGet.path}`);
        expect(res.status, `${d.metadata.name} ${probe.httpGet.path}`).toBe(200);
      }
      if (roles.includes('bot')) {
        // SLACK_APP_TOKEN in the Secret turns on Socket Mode: the same probes must still answer.
        const appToken = 'xapp-1-A0K8S-probe';
        const socket = await startSlackStandin({
          unknownUsers: 'derived',
          tokens: ['xoxb-k8s'],
          socketMode: { appToken },
        });
        stops.push(() => socket.close());
        const socketBot = await startSystem({
          roles,
          overrides: {
            redis: test.redis,
            redisUrl: REDIS_TARGET,
            prefix: test.prefix,
            policy: loadPolicy(firstPolicy()),
            slack: { botToken: 'xoxb-k8s', signingSecret: '', appToken },
            slackApiUrl: socket.apiUrl,
            log: createLogger('k8s-test', 'silent'),
            botPort: 0,
          },
        });
        stops.push(() => socketBot.stop());
        for (const probe of probes) {
          const res = await fetch(`${socketBot.bot!.url}${probe.httpGet.path}`);
          expect(res.status, `${d.metadata.name} in Socket Mode ${probe.httpGet.path}`).toBe(200);
        }
      }
      // Readiness and liveness are different questions where the process can tell them apart.
      if (roles.includes('authorizer')) expect(c.readinessProbe.httpGet.path).toBe('/_jitgate/readyz');
      expect(c.livenessProbe.httpGet.path).toBe('/_jitgate/healthz');
    }
  });
});

function firstPolicy(): string {
  return Object.values(named('ConfigMap', 'jitgate-policy').data as Record<string, string>)[0]!;
}
