// The cost of issue 21's upstream protection on the hot path, and what the read cache buys.
// Awards (the small document): every feature off, in two identical processes (their difference
// is the run-to-run spread), the defaults (breaker on, read retries 2), and CALLER_RATE_LIMIT on
// (a limit never reached) in memory and on Redis. Reads (`challenge(id: 3)`): the cache off, and
// on in memory and on Redis, with the upstream GETs each cost. Bounded by count and time; rounds
// interleaved, so read the ratios. BENCH_PROTECTION_REQUESTS sets the requests per round.

import type { ChildProcess } from 'node:child_process';
import { startRedis } from '../scripts/support/redis.js';
import { GRAPHQL_SMALL_BODY, cpuMicros, driveSequential, freePort } from './shared.js';

const ROUNDS = 3;
const REQUESTS_PER_ROUND = Number(process.env.BENCH_PROTECTION_REQUESTS ?? 1_500);
const ROUND_MAX_MS = 5_000;
const CONNECTIONS = 4;
const READ_BODY = JSON.stringify({ query: '{ challenge(id: "3") { id title points active startDate } }' });
const OFF = { UPSTREAM_BREAKER_FAILURES: '0', UPSTREAM_READ_RETRIES: '0' };
const NEVER_REACHED = '10000000';

type StartGateway = (port: number, env: Record<string, string>) => ChildProcess;

interface Variant {
  name: string;
  kind: 'award' | 'read';
  env: Record<string, string>;
  port: number;
  child?: ChildProcess;
  answered: number;
  cpuMicros: number;
  ms: number;
  upstreamGets: number;
}

/** CONNECTIONS loops of sequential requests; answers how many succeeded. */
const drive = (url: string, [body, expect]: readonly [string, string], count: number) =>
  driveSequential(url, { body: () => body, expect, count, connections: CONNECTIONS, maxMs: ROUND_MAX_MS });

const request = (v: Variant) =>
  v.kind === 'award' ? ([GRAPHQL_SMALL_BODY, 'AddChallengeHistorySuccess'] as const) : ([READ_BODY, '"challenge":{"id":"3"'] as const);

export async function protectionBench(startGateway: StartGateway, stopGateway: (child: ChildProcess) => Promise<void>, upstreamOrigin: string) {
  // Fit for money, as a production gateway requires (it refuses to start on a Redis that may lose records).
  const redis = await startRedis({ args: ['--appendonly', 'yes'] });
  const specs: { name: string; kind: Variant['kind']; env: Record<string, string> }[] = [
    { name: 'award, all off', kind: 'award', env: OFF },
    { name: 'award, all off (2nd process: spread)', kind: 'award', env: OFF },
    { name: 'award, defaults (breaker, read retries)', kind: 'award', env: {} },
    { name: 'award, CALLER_RATE_LIMIT on, memory', kind: 'award', env: { CALLER_RATE_LIMIT: NEVER_REACHED } },
    { name: 'award, CALLER_RATE_LIMIT on, Redis', kind: 'award', env: { CALLER_RATE_LIMIT: NEVER_REACHED, REDIS_URL: redis.url } },
    { name: 'read, cache off', kind: 'read', env: {} },
    { name: 'read, cache on, memory', kind: 'read', env: { CHALLENGE_CACHE_TTL_S: '60' } },
    { name: 'read, cache on, Redis', kind: 'read', env: { CHALLENGE_CACHE_TTL_S: '60', REDIS_URL: redis.url } },
  ];
  const variants: Variant[] = specs.map((v) => ({ ...v, port: 0, answered: 0, cpuMicros: 0, ms: 0, upstreamGets: 0 }));
  const gets = async () => Number(await (await fetch(`${upstreamOrigin}/__gets`)).text());
  try {
    for (const v of variants) {
      v.port = await freePort();
      v.child = startGateway(v.port, v.env);
    }
    const url = (v: Variant) => `http://127.0.0.1:${v.port}/graphql`;
    for (const v of variants) {
      for (let attempt = 0; (await drive(url(v), request(v), 1).catch(() => 0)) !== 1; attempt++) {
        if (attempt > 150) throw new Error(`${v.name} did not become ready`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await drive(url(v), request(v), 300); // warm-up
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < variants.length; i++) {
        const v = variants[(i + round) % variants.length]!;
        const [cpu, getsBefore, t0] = [cpuMicros(v.child!.pid!), await gets(), performance.now()];
        v.answered += await drive(url(v), request(v), REQUESTS_PER_ROUND);
        v.ms += performance.now() - t0;
        v.cpuMicros += cpuMicros(v.child!.pid!) - cpu;
        v.upstreamGets += (await gets()) - getsBefore;
      }
    }
  } finally {
    await Promise.all(variants.filter((v) => v.child).map((v) => stopGateway(v.child!)));
    await redis.stop();
  }
  const cpuPerRequest = (v: Variant) => Math.round(v.cpuMicros / Math.max(1, v.answered));
  const perSecond = (v: Variant) => Math.round((v.answered / Math.max(1, v.ms)) * 1000);
  const [off, offAgain] = variants;
  const readOff = variants.find((v) => v.name === 'read, cache off')!;
  return {
    spreadCpu: Math.round((Math.abs(cpuPerRequest(off!) - cpuPerRequest(offAgain!)) / cpuPerRequest(off!)) * 100) / 100,
    rows: variants.map((v) => ({
      variant: v.name,
      answered: v.answered,
      requestsPerSecond: perSecond(v),
      cpuMicrosPerRequest: cpuPerRequest(v),
      toOff: Math.round((cpuPerRequest(v) / cpuPerRequest(v.kind === 'award' ? off! : readOff)) * 100) / 100,
      throughputToOff: Math.round((perSecond(v) / perSecond(v.kind === 'award' ? off! : readOff)) * 100) / 100,
      upstreamGetsPerRequest: v.kind === 'read' ? Math.round((v.upstreamGets / Math.max(1, v.answered)) * 1000) / 1000 : null,
    })),
  };
}

export function printProtectionTable(result: Awaited<ReturnType<typeof protectionBench>>): void {
  console.log(`\nupstream protection on the hot path (${CONNECTIONS} connections, ${ROUNDS} rounds x ${REQUESTS_PER_ROUND} requests; spread between two identical "off" processes: ${result.spreadCpu * 100}% CPU/req)`);
  console.log('| variant | answered | req/s | x off | gateway CPU µs/req | x off | upstream GETs/read |\n| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of result.rows) {
    console.log(`| ${r.variant} | ${r.answered} | ${r.requestsPerSecond} | ${r.throughputToOff} | ${r.cpuMicrosPerRequest} | ${r.toOff} | ${r.upstreamGetsPerRequest ?? '-'} |`);
  }
}
