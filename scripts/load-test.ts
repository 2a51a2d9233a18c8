// `npm run load-test`: a bounded load test on loopback. CONCURRENCY clients (default 200) send
// addChallengeHistory for DURATION_S seconds (default 20) through the gateway to an upstream
// that answers in 20-50 ms and fails 1% of calls in the documented ways. It prints counts by
// outcome and exits 1 if any response is neither the success nor a documented error, or if
// memory after the run (after GC) has not come back near where it started.
// `MODE=keyed npm run load-test`: retrying clients with idempotency keys (scripts/load-test-keyed.ts).

import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logging.js';
import { createGateway } from '../src/server.js';
import { challengeHistoryBody, startScriptableUpstream } from './support/scriptable-upstream.js';
import type { ScriptedResponse } from './support/scriptable-upstream.js';

const CONCURRENCY = Number(process.env.CONCURRENCY ?? 200);
const DURATION_S = Number(process.env.DURATION_S ?? 20);
const FAULT_RATE = Number(process.env.FAULT_RATE ?? 0.01);
const MAX_REQUESTS = 2_000_000; // a second bound, whatever the machine's speed
const MAX_HEAP_GROWTH_MB = Number(process.env.MAX_HEAP_GROWTH_MB ?? 16);
const UPSTREAM_TIMEOUT_MS = 1_000;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run load-test does)');

const FAULTS: ScriptedResponse[] = [
  { reset: 'before-response' },
  { status: 500, body: 'Internal Server Error' },
  { status: 503 },
  { delayMs: UPSTREAM_TIMEOUT_MS + 500 },
  { status: 429, headers: { 'retry-after': '3' } },
  { status: 200, body: '<html>maintenance</html>' },
];
/** The documented answers: the error code, and whether its outcome is unknown. */
const DOCUMENTED_ERRORS: Record<string, boolean> = {
  UPSTREAM_UNAVAILABLE: true,
  UPSTREAM_TIMEOUT: true,
  BAD_UPSTREAM_RESPONSE: true,
  RATE_LIMITED: false,
};

const MUTATION = JSON.stringify({
  query: `mutation { addChallengeHistory(ambassadorId: "7", input: { points: 10, score: 1.5, challengeId: "3" }) {
    __typename ... on AddChallengeHistorySuccess { challengeHistory { id points ambassador { id } challenge { id } } } } }`,
});

function memory() {
  gc!();
  const { rss, heapUsed } = process.memoryUsage();
  return { rssMb: rss / 2 ** 20, heapMb: heapUsed / 2 ** 20 };
}

async function main(): Promise<void> {
  const upstream = await startScriptableUpstream();
  const body = challengeHistoryBody();
  upstream.respondWith(async () => {
    if (upstream.requests.length > 1_000) upstream.requests.length = 0; // the recorder is not what is measured
    if (Math.random() < FAULT_RATE) return FAULTS[Math.floor(Math.random() * FAULTS.length)]!;
    return { status: 201, body, delayMs: 20 + Math.random() * 30 };
  });
  const config = loadConfig({
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    UPSTREAM_URL: upstream.url.href,
    UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
    LOG_LEVEL: 'warn',
  });
  const gateway = createGateway(config, { logger: createLogger({ level: 'warn', write: () => {} }) });
  const url = await gateway.listen();
  const clients = new Pool(url.origin, { connections: CONCURRENCY, pipelining: 1 });

  const counts = new Map<string, number>();
  const latencies: number[] = [];
  let sent = 0;
  const count = (outcome: string) => counts.set(outcome, (counts.get(outcome) ?? 0) + 1);

  async function client(until: number): Promise<void> {
    while (Date.now() < until && sent < MAX_REQUESTS) {
      sent += 1;
      const started = performance.now();
      try {
        const res = await clients.request({
          method: 'POST',
          path: url.pathname,
          headers: { 'content-type': 'application/json', authorization: 'Bearer load-test-token' },
          body: MUTATION,
        });
        count(classify(res.statusCode, await res.body.json()));
      } catch (error) {
        count(`unexpected: transport ${(error as Error).message}`);
      }
      latencies.push(performance.now() - started);
    }
  }

  // Warm-up (JIT, pools, Yoga's caches), then the baseline.
  await Promise.all(Array.from({ length: CONCURRENCY }, () => client(Date.now() + 2_000)));
  counts.clear();
  latencies.length = 0;
  sent = 0;
  await sleep(500);
  const before = memory();

  const started = Date.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, () => client(started + DURATION_S * 1_000)));
  const elapsedS = (Date.now() - started) / 1_000;

  await clients.close(); // the load generator's own sockets are not the gateway's memory
  await sleep(UPSTREAM_TIMEOUT_MS + 1_000); // late upstream answers and timers settle
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))]!.toFixed(1);
  const summary = { requests: sent, seconds: elapsedS, perSecond: Math.round(sent / elapsedS), p50: pct(50), p99: pct(99) };
  latencies.length = 0;
  const after = memory();

  console.log(`load test: ${CONCURRENCY} clients, ${DURATION_S} s, ${FAULT_RATE * 100}% injected upstream faults`);
  console.log(`  ${summary.requests} requests in ${summary.seconds.toFixed(1)} s (${summary.perSecond}/s), latency p50 ${summary.p50} ms, p99 ${summary.p99} ms`);
  for (const [outcome, n] of [...counts].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(8)}  ${outcome}`);
  console.log(`  memory after GC: heap ${before.heapMb.toFixed(1)} -> ${after.heapMb.toFixed(1)} MB, rss ${before.rssMb.toFixed(1)} -> ${after.rssMb.toFixed(1)} MB`);

  await gateway.close();
  await upstream.close();

  const unexpected = [...counts.keys()].filter((outcome) => outcome.startsWith('unexpected'));
  const grewMb = after.heapMb - before.heapMb;
  const failures = [
    ...(unexpected.length > 0 ? [`${unexpected.length} kind(s) of unexpected response`] : []),
    ...(grewMb > MAX_HEAP_GROWTH_MB ? [`heap grew ${grewMb.toFixed(1)} MB (> ${MAX_HEAP_GROWTH_MB} MB)`] : []),
  ];
  console.log(failures.length === 0 ? 'PASS' : `FAIL: ${failures.join('; ')}`);
  process.exit(failures.length === 0 ? 0 : 1);
}

/** "success", a documented error with its outcomeUnknown, or "unexpected: ...". */
function classify(status: number, body: unknown): string {
  const { data, errors } = body as { data?: { addChallengeHistory?: { __typename?: string; challengeHistory?: { id?: string } } }; errors?: { extensions?: { code?: string; outcomeUnknown?: boolean } }[] };
  if (status === 200 && data?.addChallengeHistory?.__typename === 'AddChallengeHistorySuccess' && data.addChallengeHistory.challengeHistory?.id === '42' && !errors) {
    return 'success';
  }
  const extensions = errors?.length === 1 ? errors[0]!.extensions : undefined;
  const code = extensions?.code;
  if (status === 200 && data === null && code !== undefined && DOCUMENTED_ERRORS[code] === extensions!.outcomeUnknown) {
    return `${code} (outcomeUnknown: ${extensions!.outcomeUnknown})`;
  }
  return `unexpected: ${status} ${JSON.stringify(body).slice(0, 200)}`;
}

if (process.env.MODE === 'keyed') {
  const { runKeyedLoadTest } = await import('./load-test-keyed.js');
  await runKeyedLoadTest();
} else {
  await main();
}
