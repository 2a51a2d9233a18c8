// The shipped deployment files say only what the gateway understands: every environment variable
// set by the Dockerfile, compose.yaml and deploy/kubernetes/ is one src/app/config.ts reads, with a
// value loadConfig accepts; probes ask the paths the server answers, on the port it listens on;
// the drain fits the grace periods; Redis is configured so no record is lost.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/app/config.js';
import type { GatewayConfig } from '../../src/app/config.js';
import { variablesReadByConfig } from '../support/config-variables.js';
import { envOf, execForm, instruction, readDockerfile } from '../support/dockerfile.js';
import { startGateway } from '../support/gateway.js';
import { startScriptableUpstream } from '../support/scriptable-upstream.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const CONFIG_VARIABLES = variablesReadByConfig();

// What a deployment fills in: an interpolated ${VAR} of compose.yaml, a Secret's value in Kubernetes.
const PLACEHOLDERS: Record<string, string> = {
  UPSTREAM_URL: 'https://api.example.test/api/v2',
  REDIS_URL: 'redis://:password@redis.example.test:6379',
};

/** The environment, checked: only variables config.ts reads, and values it accepts. */
function checkedConfig(env: Record<string, string>, where: string): GatewayConfig {
  expect(Object.keys(env).filter((name) => !CONFIG_VARIABLES.includes(name)), `${where}: variables src/app/config.ts does not read`).toEqual([]);
  try {
    return loadConfig(env);
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`);
  }
}

/** compose's interpolation: ${VAR:?message} is what the operator sets, ${VAR:-default} its default. */
function interpolated(value: string): string {
  return value.replace(/\$\{([A-Z_][A-Z0-9_]*)(?::([?-])([^}]*))?\}/g, (_, name: string, kind?: string, rest?: string) => {
    if (kind === '-') return rest!;
    if (!(name in PLACEHOLDERS)) throw new Error(`no placeholder for \${${name}}`);
    return PLACEHOLDERS[name]!;
  });
}

const seconds = (duration: string): number => {
  const match = /^(\d+)(ms|s|m)$/.exec(duration);
  if (!match) throw new Error(`unreadable duration ${duration}`);
  return Number(match[1]) / ({ ms: 1000, s: 1, m: 1 / 60 } as const)[match[2] as 'ms' | 's' | 'm'];
};

/** Drain (SIGTERM to exit) must let every in-flight award get its answer, and fit before SIGKILL. */
function checkDrain(config: GatewayConfig, graceSeconds: number, beforeSigtermSeconds: number, where: string): void {
  expect(config.shutdownDrainMs, `${where}: SHUTDOWN_DRAIN_MS at least UPSTREAM_TIMEOUT_MS`).toBeGreaterThanOrEqual(config.upstreamTimeoutMs);
  // A margin for flushing logs and spans, and closing Redis.
  expect(beforeSigtermSeconds + config.shutdownDrainMs / 1000 + 3, `${where}: the drain fits the grace period`).toBeLessThanOrEqual(graceSeconds);
}

test('the source of variable names is right: it finds variables of each kind of read', () => {
  expect(CONFIG_VARIABLES).toEqual(expect.arrayContaining(['NODE_ENV', 'UPSTREAM_URL', 'PORT', 'REDIS_URL', 'SHUTDOWN_DRAIN_MS', 'CORS_ORIGINS']));
  expect(() => checkedConfig({ NODE_ENV: 'production', UPSTREAM_URL: PLACEHOLDERS.UPSTREAM_URL!, REDIS_MAX: '1' }, 'a typo')).toThrow(/REDIS_MAX/);
  expect(() => checkedConfig({ NODE_ENV: 'production', UPSTREAM_URL: PLACEHOLDERS.UPSTREAM_URL!, PORT: 'http' }, 'a bad value')).toThrow(/PORT/);
});

describe('Dockerfile', () => {
  const stages = readDockerfile(join(ROOT, 'Dockerfile'));
  const image = stages.at(-1)!;

  test('multi-stage; the image runs the bundle as a non-root user, with the settings it declares', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(execForm(instruction(image, 'CMD')!.args)).toEqual(['node', 'dist/gateway.mjs']);
    const user = instruction(image, 'USER')?.args;
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    const env = envOf(image);
    expect(env.NODE_ENV).toBe('production');
    const config = checkedConfig({ ...env, UPSTREAM_URL: PLACEHOLDERS.UPSTREAM_URL! }, 'Dockerfile ENV');
    expect(instruction(image, 'EXPOSE')!.args).toBe(String(config.port));
    expect(config.host).toBe('0.0.0.0');
  });

  test('installs from the lockfile, and production dependencies without re-resolving them (npm ci --omit=dev, no prune)', () => {
    const runs = stages.flatMap((stage) => stage.instructions.filter((item) => item.keyword === 'RUN').map((item) => item.args));
    expect(runs.some((run) => /\bnpm ci\b/.test(run) && !run.includes('--omit=dev'))).toBe(true);
    expect(runs.some((run) => /\bnpm ci\b.*--omit=dev/.test(run))).toBe(true);
    expect(runs.filter((run) => /\bnpm (install|prune)\b/.test(run))).toEqual([]);
  });

  test('HEALTHCHECK asks /health with node (the image has no curl)', () => {
    const check = execForm(instruction(image, 'HEALTHCHECK')!.args);
    expect(check[0]).toBe('node');
    expect(check.join(' ')).toContain('/health');
  });
});

describe('compose.yaml', () => {
  const compose = parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8'), { merge: true }) as {
    services: Record<string, { build?: unknown; command?: string[]; environment?: Record<string, string>; ports?: string[]; stop_grace_period?: string }>;
  };
  const gateways = Object.entries(compose.services).filter(([, service]) => service.build !== undefined);

  test('two gateway instances, each with only variables config.ts reads and values it accepts, on one Redis', () => {
    expect(gateways.map(([name]) => name)).toHaveLength(2);
    const redisUrls = new Set<string>();
    for (const [name, service] of gateways) {
      const env = Object.fromEntries(Object.entries(service.environment ?? {}).map(([key, value]) => [key, interpolated(String(value))]));
      const config = checkedConfig(env, `compose ${name}`);
      expect(config.nodeEnv).toBe('production');
      expect(config.idempotency.redisUrl, `${name} shares Redis`).not.toBeNull();
      redisUrls.add(config.idempotency.redisUrl!.href);
      expect(compose.services[config.idempotency.redisUrl!.hostname], `${name}'s REDIS_URL names a service`).toBeDefined();
      // Each published port reaches the port the gateway listens on.
      for (const mapping of service.ports ?? []) expect(Number(mapping.split(':').at(-1))).toBe(config.port);
      checkDrain(config, seconds(service.stop_grace_period ?? '10s'), 0, `compose ${name}`);
    }
    expect(redisUrls.size).toBe(1);
  });

  test('Redis never evicts and keeps its records across a restart (noeviction, AOF on)', () => {
    const [name] = gateways.map(([, service]) => new URL(interpolated(service.environment!.REDIS_URL!)).hostname);
    const command = compose.services[name!]!.command!.join(' ');
    expect(command).toMatch(/--maxmemory-policy noeviction\b/);
    expect(command).toMatch(/--appendonly yes\b/);
  });
});

describe('deploy/kubernetes', () => {
  const directory = join(ROOT, 'deploy/kubernetes');
  type Manifest = { kind: string; metadata: { name: string; labels?: Record<string, string> }; spec: any };
  const manifests: Manifest[] = readdirSync(directory)
    .filter((file) => file.endsWith('.yaml'))
    .flatMap((file) => parseAllDocuments(readFileSync(join(directory, file), 'utf8')).map((document) => document.toJS() as Manifest));
  const byKind = (kind: string) => manifests.filter((manifest) => manifest.kind === kind);
  const deployment = byKind('Deployment')[0]!;
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const env: Record<string, string> = Object.fromEntries(
    container.env.map((item: { name: string; value?: string; valueFrom?: unknown }) => {
      if (item.value !== undefined) return [item.name, String(item.value)];
      if (!(item.name in PLACEHOLDERS)) throw new Error(`no placeholder for the Secret-set ${item.name}`);
      return [item.name, PLACEHOLDERS[item.name]!];
    }),
  );
  const config = checkedConfig(env, 'Deployment');
  const portNamed = (name: string | number) => (typeof name === 'number' ? name : container.ports.find((port: { name: string }) => port.name === name)?.containerPort);

  test('a Deployment, a Service and a PodDisruptionBudget, all selecting the Deployment\'s pods', () => {
    expect(byKind('Service')).toHaveLength(1);
    expect(byKind('PodDisruptionBudget')).toHaveLength(1);
    const labels = deployment.spec.template.metadata.labels;
    for (const selector of [deployment.spec.selector.matchLabels, byKind('Service')[0]!.spec.selector, byKind('PodDisruptionBudget')[0]!.spec.selector.matchLabels]) {
      expect(labels).toMatchObject(selector);
    }
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(portNamed(byKind('Service')[0]!.spec.ports[0].targetPort)).toBe(config.port);
  });

  test('only variables config.ts reads, with accepted values; listens on the container port; runs as non-root with resource requests', () => {
    expect(config.nodeEnv).toBe('production');
    expect(config.idempotency.redisUrl).not.toBeNull();
    expect(portNamed('http')).toBe(config.port);
    expect(config.host).toBe('0.0.0.0');
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(container.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
  });

  test('liveness on /health, readiness on /ready, on the port the gateway listens on', () => {
    expect(container.livenessProbe.httpGet.path).toBe('/health');
    expect(container.readinessProbe.httpGet.path).toBe('/ready');
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe].filter(Boolean)) {
      expect(portNamed(probe.httpGet.port)).toBe(config.port);
    }
  });

  test('terminationGracePeriodSeconds holds the preStop pause and the whole drain', () => {
    const command: string[] = container.lifecycle.preStop.exec.command;
    expect(command[0]).toBe('sleep');
    checkDrain(config, pod.terminationGracePeriodSeconds, Number(command[1]), 'Deployment');
  });
});

test('the probe paths the files use are the ones the server answers (200)', async () => {
  const upstream = await startScriptableUpstream();
  const gw = await startGateway({ upstreamUrl: upstream.url });
  try {
    for (const path of ['/health', '/ready']) expect((await fetch(new URL(path, gw.url))).status, path).toBe(200);
    // A path no file uses is not served: the check above is not vacuous.
    expect((await fetch(new URL('/healthz', gw.url))).status).toBe(404);
  } finally {
    await gw.close();
    await upstream.close();
  }
});
