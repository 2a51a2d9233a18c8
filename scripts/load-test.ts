// `npm run load-test`: a bounded load test on loopback, in two phases of DURATION_S seconds
// (default 10) each. In both, CONCURRENCY clients (default 200) send addChallengeHistory through
// the gateway to an upstream that answers in 20-50 ms and fails FAULT_RATE (1%) of calls in the
// documented ways; in the second, a hostile mix runs beside them (scripts/support/hostile-mix.ts):
// SLOW_BODIES (500) connections declaring 1 MiB and stalling one byte short (reopened 1-2 s after
// being refused), JUNK_CLIENTS (2) sending 1 MB of invalid JSON, HTTP batches at the upstream-call
// budget and one call above it, and a noisy neighbour keeping NOISY_IN_FLIGHT (4) reads of the
// whole budget in flight, AMPLIFIERS (4) anonymous clients sending the amplification request
// (500 refused items × 30 aliases), and NON_READERS (120) connections sending it and never
// reading, held the whole phase. `HOSTILE=off` runs the first phase only. Gateway, upstream and clients
// share this process (and its event loop): the second phase's figures include the attackers' cost.
// It prints normal traffic's latency and error rate in each phase, and the awards the upstream
// recorded against what their clients were answered (successes + outcomeUnknown). It exits 1 if
// a normal response is neither a success nor a documented error, a recorded award was answered
// otherwise, a success was never recorded, a hostile request was answered other than documented,
// or memory after the run (after GC) has not come back near where it started.
// `MODE=keyed npm run load-test`: retrying clients with idempotency keys (scripts/load-test-keyed.ts).

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { loadConfig } from '../src/app/config.js';
import { createLogger } from '../src/telemetry/logging.js';
import { createGateway } from '../src/app/gateway.js';
import { answerOf, AwardLedger, refusalAnswer, reportTally } from './support/award-ledger.js';
import type { Answer } from './support/award-ledger.js';
import { bump, runHostileMix } from './support/hostile-mix.js';
import type { Counts, HostileMixSettings } from './support/hostile-mix.js';
import { challengeBody, challengeHistoryBody, startScriptableUpstream } from './support/scriptable-upstream.js';
import type { ScriptedResponse } from './support/scriptable-upstream.js';

const CONCURRENCY = Number(process.env.CONCURRENCY ?? 200);
const DURATION_S = Number(process.env.DURATION_S ?? 10);
const FAULT_RATE = Number(process.env.FAULT_RATE ?? 0.01);
const HOSTILE = process.env.HOSTILE !== 'off';
const MAX_AWARDS = 2_000_000; // a second bound on every loop, whatever the machine's speed
const MAX_HEAP_GROWTH_MB = Number(process.env.MAX_HEAP_GROWTH_MB ?? 16);
const UPSTREAM_TIMEOUT_MS = 1_000;
const MiB = 1024 * 1024;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run load-test does)');

/** Injected faults, and whether the upstream recorded the award before failing that way. */
const FAULTS: { response: ScriptedResponse; recorded: boolean }[] = [
  { response: { reset: 'before-response' }, recorded: true },
  { response: { status: 500, body: 'Internal Server Error' }, recorded: false },
  { response: { status: 503 }, recorded: false },
  { response: { delayMs: UPSTREAM_TIMEOUT_MS + 500 }, recorded: true },
  // Without Retry-After: every client here is one caller (one token), and a 429 with Retry-After
  // refuses that caller's calls on the gateway until then (tested in test/ratelimit), which would
  // stop all of this traffic for the whole wait instead of failing one call.
  { response: { status: 429 }, recorded: false },
  { response: { status: 200, body: '<html>maintenance</html>' }, recorded: true },
];
/** The documented answers to normal traffic: the error code, and whether its outcome is unknown. */
const DOCUMENTED_ERRORS: Record<string, boolean> = {
  UPSTREAM_UNAVAILABLE: true,
  UPSTREAM_TIMEOUT: true,
  BAD_UPSTREAM_RESPONSE: true,
  RATE_LIMITED: false,
};
const ADD = `mutation Add($input: AddChallengeHistoryInput!) { addChallengeHistory(ambassadorId: "7", input: $input) {
    __typename ... on AddChallengeHistorySuccess { challengeHistory { id points ambassador { id } challenge { id } } } } }`;
const TOKEN = 'load-test-token';

function memory() {
  gc!();
  const { rss, heapUsed } = process.memoryUsage();
  return { rssMb: rss / 2 ** 20, heapMb: heapUsed / 2 ** 20 };
}

interface PhaseResult {
  name: string;
  requests: number;
  seconds: number;
  p50: string;
  p99: string;
  errors: number;
  healthP50: string;
  outcomes: Counts;
  hostile?: Record<string, Counts>;
  peakRssMb: number;
  peakHeldMb: number;
  peakUndrainedMb: number;
  /** The process's event-loop delay (gateway, upstream and clients share it), ms. */
  loopDelayP99: string;
  loopDelayMax: string;
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? 'n/a' : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!.toFixed(1);

async function main(): Promise<void> {
  const ledger = new AwardLedger(MAX_AWARDS);
  const upstream = await startScriptableUpstream();
  const historyBody = challengeHistoryBody();
  let nextRecordId = 1;
  upstream.respondWith(async (request) => {
    if (upstream.requests.length > 1_000) upstream.requests.length = 0; // the recorder is not what is measured
    const delayMs = 20 + Math.random() * 30;
    const challenge = /\/manager\/challenges\/(\d+)$/.exec(request.url);
    if (request.method === 'GET' && challenge) return { status: 200, body: challengeBody(Number(challenge[1])), delayMs };
    const award = ledger.awardOf(request.json);
    const fault = Math.random() < FAULT_RATE ? FAULTS[Math.floor(Math.random() * FAULTS.length)]! : undefined;
    const id = fault && !fault.recorded ? 0 : nextRecordId++;
    if (award !== undefined && id !== 0) ledger.record(award, id);
    return fault?.response ?? { status: 201, body: { ...historyBody, id, message: (request.json as { message?: string }).message }, delayMs };
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
  const hostileSettings: HostileMixSettings = {
    slowBodies: Number(process.env.SLOW_BODIES ?? 500),
    slowBodyBytes: config.limits.maxRequestBodyBytes,
    junkClients: Number(process.env.JUNK_CLIENTS ?? 2),
    junkBodyBytes: Math.min(1_000_000, config.limits.maxRequestBodyBytes),
    upstreamCallBudget: config.upstreamBudget.maxCallsPerRequest,
    noisyInFlight: Number(process.env.NOISY_IN_FLIGHT ?? 4),
    amplifiers: Number(process.env.AMPLIFIERS ?? 4),
    nonReaders: Number(process.env.NON_READERS ?? 120),
    token: TOKEN,
  };

  let latencies: number[] = [];
  let outcomes: Counts = new Map();

  async function client(until: number): Promise<void> {
    for (let next; Date.now() < until && (next = ledger.issue()); ) {
      const started = performance.now();
      let answer: Answer;
      try {
        const res = await clients.request({
          method: 'POST',
          path: url.pathname,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
          body: JSON.stringify({ query: ADD, variables: { input: { points: 10, score: 1.5, challengeId: '3', message: next.message } } }),
        });
        const body = await res.body.json();
        answer = classify(res.statusCode, body);
        bump(outcomes, answer.kind === 'unexpected' ? `unexpected: ${res.statusCode} ${JSON.stringify(body).slice(0, 200)}` : label(answer));
      } catch (error) {
        answer = { kind: 'unexpected', code: 'transport error' };
        bump(outcomes, `unexpected: transport ${(error as Error).message}`);
      }
      ledger.answer(next.award, answer);
      latencies.push(performance.now() - started);
    }
  }

  /** /health, one request at a time, until `until`: its median latency. */
  async function probeHealth(until: number): Promise<string> {
    const timings: number[] = [];
    while (Date.now() < until) {
      const started = performance.now();
      const res = await fetch(new URL('/health', url));
      await res.arrayBuffer();
      timings.push(performance.now() - started);
      await sleep(100);
    }
    return percentile(timings.sort((a, b) => a - b), 50);
  }

  async function phase(name: string, hostile: boolean): Promise<PhaseResult> {
    latencies = [];
    outcomes = new Map();
    let peakRssMb = 0;
    let peakHeldMb = 0;
    let peakUndrainedMb = 0;
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const sampler = setInterval(() => {
      peakRssMb = Math.max(peakRssMb, process.memoryUsage.rss() / MiB);
      peakHeldMb = Math.max(peakHeldMb, gateway.inflightBodies.bytes / MiB);
      peakUndrainedMb = Math.max(peakUndrainedMb, gateway.undrainedAnswers.bytes / MiB);
    }, 200);
    const started = Date.now();
    const until = started + DURATION_S * 1_000;
    let seconds = 0;
    const [, healthP50, hostileCounts] = await Promise.all([
      Promise.all(Array.from({ length: CONCURRENCY }, () => client(until))).then(() => (seconds = (Date.now() - started) / 1_000)),
      probeHealth(until),
      hostile ? runHostileMix(url, hostileSettings, ledger, until) : undefined,
    ]);
    clearInterval(sampler);
    loopDelay.disable();
    const loopDelayP99 = (loopDelay.percentile(99) / 1e6).toFixed(0);
    const loopDelayMax = (loopDelay.max / 1e6).toFixed(0);
    const sorted = latencies.sort((a, b) => a - b);
    const successes = outcomes.get('success') ?? 0;
    const result = { name, requests: sorted.length, seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99), errors: sorted.length - successes, healthP50, outcomes, hostile: hostileCounts, peakRssMb, peakHeldMb, peakUndrainedMb, loopDelayP99, loopDelayMax };
    latencies = [];
    return result;
  }

  // Warm-up (JIT, pools, Yoga's caches), then the baseline.
  await Promise.all(Array.from({ length: CONCURRENCY }, () => client(Date.now() + 2_000)));
  await sleep(500);
  const before = memory();

  const phases = [await phase('normal traffic only', false)];
  if (HOSTILE) {
    await sleep(UPSTREAM_TIMEOUT_MS); // the first phase's late answers settle
    phases.push(await phase('with the hostile mix', true));
  }

  await clients.close(); // the load generator's own sockets are not the gateway's memory
  await sleep(UPSTREAM_TIMEOUT_MS + 1_000); // late upstream answers and timers settle
  const after = memory();

  const mix = HOSTILE
    ? `; hostile mix: ${hostileSettings.slowBodies} slow bodies (${hostileSettings.slowBodyBytes} bytes declared), ${hostileSettings.junkClients} clients of ${hostileSettings.junkBodyBytes}-byte junk, HTTP batches of ${hostileSettings.upstreamCallBudget} and ${hostileSettings.upstreamCallBudget + 1} calls, a noisy neighbour with ${hostileSettings.noisyInFlight} reads of ${hostileSettings.upstreamCallBudget} in flight`
    : '';
  console.log(`load test: ${CONCURRENCY} clients, ${DURATION_S} s per phase, ${FAULT_RATE * 100}% injected upstream faults${mix}`);
  for (const p of phases) {
    console.log(
      `  ${p.name}: ${p.requests} requests in ${p.seconds.toFixed(1)} s (${Math.round(p.requests / p.seconds)}/s), latency p50 ${p.p50} ms, p99 ${p.p99} ms, ` +
        `errors ${p.errors} (${((100 * p.errors) / Math.max(1, p.requests)).toFixed(2)}%), /health p50 ${p.healthP50} ms, peak rss ${p.peakRssMb.toFixed(0)} MB, peak request bodies held ${p.peakHeldMb.toFixed(1)} MiB, peak undrained answers ${p.peakUndrainedMb.toFixed(1)} MiB, event-loop delay p99 ${p.loopDelayP99} ms, max ${p.loopDelayMax} ms`,
    );
    for (const [outcome, n] of [...p.outcomes].sort((a, b) => b[1] - a[1])) console.log(`    ${String(n).padStart(8)}  ${outcome}`);
    for (const [attacker, counts] of Object.entries(p.hostile ?? {})) {
      console.log(`    ${attacker}:`);
      for (const [outcome, n] of [...counts].sort((a, b) => b[1] - a[1])) console.log(`      ${String(n).padStart(8)}  ${outcome}`);
    }
  }
  if (phases.length === 2) {
    const ratio = (key: 'p50' | 'p99' | 'healthP50') => (Number(phases[1]![key]) / Math.max(0.1, Number(phases[0]![key]))).toFixed(2);
    console.log(`  normal traffic with the hostile mix / without it: latency p50 ×${ratio('p50')}, p99 ×${ratio('p99')}, /health p50 ×${ratio('healthP50')}`);
  }
  const awardFailures = reportTally(ledger.tally());
  console.log(`  memory after GC: heap ${before.heapMb.toFixed(1)} -> ${after.heapMb.toFixed(1)} MB, rss ${before.rssMb.toFixed(1)} -> ${after.rssMb.toFixed(1)} MB`);

  await gateway.close();
  await upstream.close();

  const unexpected = phases.flatMap((p) => [...p.outcomes.keys()].filter((outcome) => outcome.startsWith('unexpected')));
  const grewMb = after.heapMb - before.heapMb;
  const failures = [
    ...(unexpected.length > 0 ? [`${unexpected.length} kind(s) of unexpected response`] : []),
    ...awardFailures,
    ...phases.flatMap((p) => hostileFailures(p.hostile ?? {})),
    ...(grewMb > MAX_HEAP_GROWTH_MB ? [`heap grew ${grewMb.toFixed(1)} MB (> ${MAX_HEAP_GROWTH_MB} MB)`] : []),
  ];
  console.log(failures.length === 0 ? 'PASS' : `FAIL: ${failures.join('; ')}`);
  process.exit(failures.length === 0 ? 0 : 1);
}

const label = (answer: Answer) => (answer.kind === 'success' ? 'success' : `${answer.code} (${answer.kind}: ${answer.kind === 'outcomeUnknown'})`);

/** A success, a documented error with its outcomeUnknown, an HTTP refusal, or unexpected. */
function classify(status: number, body: unknown): Answer {
  const { data, errors } = body as { data?: { addChallengeHistory?: { __typename?: string; challengeHistory?: { id?: string } } } | null; errors?: { extensions?: { code?: string; outcomeUnknown?: boolean } }[] };
  const refused = refusalAnswer(status, body);
  if (refused) return refused;
  if (status !== 200) return { kind: 'unexpected' };
  const answer = answerOf(data?.addChallengeHistory, errors?.[0]);
  const documented =
    answer.kind === 'success' ? !errors : data === null && errors?.length === 1 && DOCUMENTED_ERRORS[answer.code!] === errors[0]!.extensions?.outcomeUnknown;
  return documented ? answer : { kind: 'unexpected' };
}

/** Hostile requests answered other than documented (transport errors included). */
function hostileFailures(counts: Record<string, Counts>): string[] {
  const expected: Record<string, RegExp> = {
    'slow bodies': /^(opened|still held at the end|answered (503|408)|closed unanswered)$/,
    '1 MB junk': /^(400 BAD_REQUEST|503 SERVER_BUSY)$/,
    'maximal batches': /^(at budget \(\d+ calls\): (200 answered per operation|503 SERVER_BUSY|item successes)|budget \+ 1 \(\d+ calls\): (400 OPERATION_LIMIT_EXCEEDED|503 SERVER_BUSY))$/,
    'noisy neighbour': /^(200 all \d+ read|503 \d+ read, SERVER_BUSY)$/,
    amplification: /^(400 OPERATION_LIMIT_EXCEEDED|503 SERVER_BUSY)$/,
    // Held the whole phase (longer than the keep-alive timeout): every one closed by the gateway.
    'non-reading clients': /^(opened|closed by the gateway)$/,
  };
  return Object.entries(counts).flatMap(([attacker, outcomes]) =>
    [...outcomes.keys()].filter((outcome) => !expected[attacker]!.test(outcome)).map((outcome) => `${attacker} answered "${outcome}"`),
  );
}

if (process.env.MODE === 'keyed') {
  const { runKeyedLoadTest } = await import('./load-test-keyed.js');
  await runKeyedLoadTest();
} else {
  await main();
}
