// A Redis that may lose records is refused in production and warned about in development: at
// start-up (exit 1, one line naming the setting and the fix) and on every reconnect (keyed
// awards refused, reason unfit). A full Redis is told from an unreachable one.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { loadConfig } from '../../src/app/config.js';
import { createLogger } from '../../src/telemetry/logging.js';
import { createGateway } from '../../src/app/gateway.js';
import { startGateway } from '../support/gateway.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream } from '../support/scriptable-upstream.js';
import { codedError, keyedAdd, newKey, redisAvailable } from './keyed.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const FIT = ['--appendonly', 'yes'];

describe.skipIf(!redisAvailable)('the store is checked fit for money', () => {
  let upstream: ScriptableUpstream;
  beforeAll(async () => {
    upstream = await startScriptableUpstream();
  });
  afterAll(async () => {
    await upstream?.close();
  });

  async function redisWith(args: string[]): Promise<TestRedis> {
    const redis = await startRedis({ args });
    onTestFinished(() => redis.stop());
    return redis;
  }

  /** A gateway in this process: what its listen() did, and its log lines. */
  async function startOn(redis: TestRedis, env: Record<string, string>) {
    const config = loadConfig({ NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0', UPSTREAM_URL: String(upstream.url), REDIS_URL: redis.url, ...env });
    const logs: string[] = [];
    const gateway = createGateway(config, { logger: createLogger({ level: 'debug', write: (line) => logs.push(line) }) });
    onTestFinished(() => gateway.close());
    const listened = await gateway.listen().then(
      (url) => ({ url, error: null }),
      (error: Error) => ({ url: null, error }),
    );
    const lines = (level: string) => logs.map((line) => JSON.parse(line)).filter((line) => line.level === level && /idempotency store/.test(line.msg));
    return { ...listened, warnings: () => lines('warn'), errors: () => lines('error') };
  }

  test('production, no persistence: the process exits 1 with one line naming appendonly and the fix', async () => {
    const redis = await redisWith([]);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0', UPSTREAM_URL: String(upstream.url), REDIS_URL: redis.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    const lines = stderr.split('\n').filter((line) => line !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/appendonly is no .*set appendonly yes .*REDIS_MIN_REPLICAS.*REDIS_UNSAFE_STORE=true \(unsafe for money\)/);
    expect(lines[0]).not.toContain(redis.url);
  });

  test('production, REDIS_URL at a Redis Cluster node: refused at start-up, naming REDIS_CLUSTER_NODES (issue 19: every keyed award was refused, CROSSSLOT)', async () => {
    const redis = await redisWith([...FIT, '--cluster-enabled', 'yes']);
    const { url, error } = await startOn(redis, {});
    expect(url).toBeNull();
    expect(error?.name).toBe('StartupError');
    expect(error?.message).toContain('it is a Redis Cluster node (cluster_enabled:1), which answers MOVED to a plain client: list the nodes in REDIS_CLUSTER_NODES instead');
  });

  test.each(['volatile-lru', 'volatile-ttl', 'allkeys-lru'])('production, maxmemory-policy %s: refused at start-up, naming the setting', async (policy) => {
    const redis = await redisWith([...FIT, '--maxmemory-policy', policy]);
    const { url, error } = await startOn(redis, {});
    expect(url).toBeNull();
    expect(error?.name).toBe('StartupError');
    expect(error?.message).toContain(`maxmemory-policy is ${policy}, so Redis may evict idempotency records: set maxmemory-policy noeviction`);
  });

  test('production, noeviction and appendonly yes: starts, nothing to warn about', async () => {
    const gw = await startOn(await redisWith(FIT), {});
    expect(gw.error).toBeNull();
    expect(gw.warnings()).toEqual([]);
  });

  test('production, no persistence but REDIS_MIN_REPLICAS=1: replicas stand in, it starts', async () => {
    const gw = await startOn(await redisWith([]), { REDIS_MIN_REPLICAS: '1' });
    expect(gw.error).toBeNull();
  });

  test('production with REDIS_UNSAFE_STORE=true, and development: one warning line, and it runs', async () => {
    const redis = await redisWith(['--maxmemory-policy', 'allkeys-lru']);
    for (const env of [{ REDIS_UNSAFE_STORE: 'true' }, { NODE_ENV: 'development' }] as Record<string, string>[]) {
      const gw = await startOn(redis, env);
      expect(gw.error).toBeNull();
      expect(gw.warnings()).toHaveLength(1);
      expect(gw.warnings()[0].problem).toMatch(/maxmemory-policy is allkeys-lru.*appendonly is no/);
    }
  });

  test('production, a reconnect finds the store unfit: keyed awards refused (reason unfit, nothing sent), unkeyed served; fit again: keys work', async () => {
    const redis = await redisWith(FIT);
    const gw = await startOn(redis, {});
    const admin = new Redis(redis.url);
    onTestFinished(() => void admin.disconnect());
    const client = { graphql: (request: object) => fetch(gw.url!, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer t' }, body: JSON.stringify(request) }).then(async (r) => ({ status: r.status, headers: r.headers, body: await r.json() })) };
    expect((await keyedAdd(client, newKey())).body.data.addChallengeHistory.__typename).toBe('AddChallengeHistorySuccess');

    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    await admin.call('CLIENT', 'KILL', 'TYPE', 'normal');
    // Reconnected and checked within a bounded number of tries.
    for (let tries = 0; tries < 100; tries++) {
      const answer = await keyedAdd(client, newKey());
      if (/may lose records/.test(answer.body.errors?.[0]?.message)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    upstream.reset();
    const refused = await keyedAdd(client, newKey());
    expect(codedError(refused)).toEqual({ code: 'IDEMPOTENCY_STORE_UNAVAILABLE', outcomeUnknown: false });
    expect(refused.body.errors[0].message).toMatch(/may lose records.*not sent/);
    expect(upstream.requests).toHaveLength(0);
    expect((await keyedAdd(client, null)).body.data.addChallengeHistory.__typename).toBe('AddChallengeHistorySuccess');
    expect(gw.errors()).toHaveLength(1);
    expect(await fetch(new URL('/metrics', gw.url!)).then((r) => r.text())).toMatch(/gateway_idempotency_store_unavailable_total\{reason="unfit"\} [1-9]/);

    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.call('CLIENT', 'KILL', 'TYPE', 'normal');
    let again;
    for (let tries = 0; tries < 100; tries++) {
      again = await keyedAdd(client, newKey());
      if (!codedError(again)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(again!.body.data.addChallengeHistory.__typename).toBe('AddChallengeHistorySuccess');
  });

  test('a full Redis (noeviction): keyed awards refused with a message that says full, counted as full; recorded keys still replay', async () => {
    const redis = await redisWith([...FIT, '--maxmemory', '4mb']);
    const gw = await startGateway({ upstreamUrl: upstream.url, env: { REDIS_URL: redis.url, REDIS_TIMEOUT_MS: '1000' } });
    onTestFinished(() => gw.close());
    const recorded = newKey();
    expect((await keyedAdd(gw, recorded)).body.data.addChallengeHistory.replayed).toBe(false);
    const admin = new Redis(redis.url);
    onTestFinished(() => void admin.disconnect());
    // Big values first, then small ones, until even a small write is refused: used memory is past maxmemory.
    let filled = 0;
    for (const size of [100 * 1024, 1024, 16]) {
      for (let i = 0; i < 10_000; i++) {
        const full = await admin.set(`filler:${filled++}`, 'x'.repeat(size)).then(
          () => false,
          (error: Error) => /OOM/.test(error.message),
        );
        if (full) break;
      }
    }
    upstream.reset();
    const refused = await keyedAdd(gw, newKey());
    expect(codedError(refused)).toEqual({ code: 'IDEMPOTENCY_STORE_UNAVAILABLE', outcomeUnknown: false });
    expect(refused.body.errors[0].message).toMatch(/store is full.*not sent/);
    expect(refused.body.errors[0].message).not.toMatch(/cannot be reached/);
    expect(upstream.requests).toHaveLength(0);
    const metrics = await fetch(new URL('/metrics', gw.url)).then((r) => r.text());
    expect(metrics).toMatch(/gateway_idempotency_store_unavailable_total\{reason="full"\} 1\n/);
    expect(metrics).toMatch(/gateway_idempotency_store_unavailable_total\{reason="unreachable"\} 0\n/);
    expect((await keyedAdd(gw, recorded)).body.data.addChallengeHistory.replayed).toBe(true);
    expect(upstream.requests).toHaveLength(0);
  });
});
