// The cost of an idempotency key on the hot path: CPU per request of the gateway process for an
// award without a key, and with a fresh key per request on the memory store and on Redis, with
// and without a replica acknowledging every claim (plus redis-server's own CPU; the primary's). Bounded by count and time; rounds interleaved, so read the ratios.

import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { startRedis } from '../scripts/support/redis.js';
import type { TestRedis } from '../scripts/support/redis.js';
import { DOCUMENT, VARIABLES, cpuMicros, driveSequential, freePort } from './shared.js';

const ROUNDS = 3;
const REQUESTS_PER_ROUND = 1_500;
const ROUND_MAX_MS = 5_000;
const CONNECTIONS = 4;

type StartGateway = (port: number, env: Record<string, string>) => ChildProcess;

interface Variant {
  name: string;
  url: string;
  pid: number;
  keyed: boolean;
  /** The Redis it writes to (its CPU is counted), or null for the memory store. */
  store: TestRedis | null;
  answered: number;
  cpuMicros: number;
  redisCpuMicros: number;
}

const body = (keyed: boolean) =>
  JSON.stringify({
    query: DOCUMENT,
    operationName: 'Add',
    variables: { ...VARIABLES, input: { ...VARIABLES.input, ...(keyed ? { idempotencyKey: randomUUID() } : {}) } },
  });

/** CONNECTIONS loops of sequential requests; answers how many succeeded. */
const drive = (url: string, keyed: boolean, count: number) =>
  driveSequential(url, { body: () => body(keyed), expect: 'AddChallengeHistorySuccess', count, connections: CONNECTIONS, maxMs: ROUND_MAX_MS });

async function waitUntilServing(url: string): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt++) {
    if ((await drive(url, true, 1).catch(() => 0)) === 1) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not become ready`);
}

export async function keyedBench(startGateway: StartGateway, stopGateway: (child: ChildProcess) => Promise<void>) {
  // Fit for money, as a production gateway requires: an append-only file, or a replica that acknowledges every claim.
  const redis = await startRedis({ args: ['--appendonly', 'yes'] });
  const primary = await startRedis();
  const replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
  const [memoryPort, redisPort, replicatedPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const memoryGateway = startGateway(memoryPort, {});
  const redisGateway = startGateway(redisPort, { REDIS_URL: redis.url });
  const replicatedGateway = startGateway(replicatedPort, { REDIS_URL: primary.url, REDIS_MIN_REPLICAS: '1' });
  const variant = (name: string, port: number, child: ChildProcess, keyed: boolean, store: TestRedis | null): Variant => ({
    name,
    url: `http://127.0.0.1:${port}/graphql`,
    pid: child.pid!,
    keyed,
    store,
    answered: 0,
    cpuMicros: 0,
    redisCpuMicros: 0,
  });
  const variants = [
    variant('no key', memoryPort, memoryGateway, false, null),
    variant('fresh key, memory store', memoryPort, memoryGateway, true, null),
    variant('fresh key, Redis store (appendonly yes)', redisPort, redisGateway, true, redis),
    variant('fresh key, Redis store, REDIS_MIN_REPLICAS=1', replicatedPort, replicatedGateway, true, primary),
  ];
  const storeCpu = (v: Variant) => (v.store ? cpuMicros(v.store.pid()!) : 0);
  try {
    await Promise.all([waitUntilServing(variants[0]!.url), waitUntilServing(variants[2]!.url), waitUntilServing(variants[3]!.url)]);
    for (const v of variants) await drive(v.url, v.keyed, 500); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < variants.length; i++) {
        const v = variants[(i + round) % variants.length]!;
        const [cpu, redisCpu] = [cpuMicros(v.pid), storeCpu(v)];
        v.answered += await drive(v.url, v.keyed, REQUESTS_PER_ROUND);
        v.cpuMicros += cpuMicros(v.pid) - cpu;
        v.redisCpuMicros += storeCpu(v) - redisCpu;
      }
    }
  } finally {
    await Promise.all([stopGateway(memoryGateway), stopGateway(redisGateway), stopGateway(replicatedGateway)]);
    await Promise.all([redis.stop(), replica.stop(), primary.stop()]);
  }
  const perRequest = (micros: number, v: Variant) => Math.round(micros / Math.max(1, v.answered));
  const unkeyed = perRequest(variants[0]!.cpuMicros, variants[0]!);
  return variants.map((v) => ({
    variant: v.name,
    answered: v.answered,
    gatewayCpuMicrosPerRequest: perRequest(v.cpuMicros, v),
    toUnkeyed: Math.round((perRequest(v.cpuMicros, v) / unkeyed) * 100) / 100,
    redisCpuMicrosPerRequest: v.store ? perRequest(v.redisCpuMicros, v) : null,
  }));
}

export function printKeyedTable(rows: Awaited<ReturnType<typeof keyedBench>>): void {
  console.log(`\nidempotency key on the hot path (${CONNECTIONS} connections, ${ROUNDS} rounds x ${REQUESTS_PER_ROUND} requests)`);
  console.log('| variant | answered | gateway CPU µs/req | x no key | redis-server CPU µs/req |\n| --- | --- | --- | --- | --- |');
  for (const r of rows) {
    console.log(`| ${r.variant} | ${r.answered} | ${r.gatewayCpuMicrosPerRequest} | ${r.toUnkeyed} | ${r.redisCpuMicrosPerRequest ?? '-'} |`);
  }
}
