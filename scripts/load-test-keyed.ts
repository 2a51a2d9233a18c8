// `MODE=keyed npm run load-test`: retrying clients with idempotency keys against two gateway
// instances on one real redis-server, with FAULT_RATE (default 1%) of upstream calls failing
// after the upstream created the record (reset, 500, timeout, unusable 2xx) or refused (429).
// Each client awards with a fresh key, retries every failure with the same key (to either
// instance), sends a share of first attempts to both instances at once (a double click) and
// repeats a share of successes. Beside them, FLOOD_CLIENTS (default 8) anonymous clients flood
// both instances with keyed awards under bogus tokens (the upstream answers 401) and 60 KB APQ
// registrations without a token. It prints the counts and Redis's memory, and exits 1 unless no
// key created two records and records created == keys that succeeded + keys left outcomeUnknown.
// REDIS_TOPOLOGY=single|sentinel|cluster (default single) chooses the Redis it starts
// (scripts/support/load-topology.ts): on Sentinel the master is SIGKILLed mid-run (KILLS times)
// and it also prints how long keyed awards were refused and the time from the promotion to the
// first served keyed award (exit 1 beyond 10 s); on a Cluster slots move mid-run.

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import { loadConfig } from '../src/app/config.js';
import { createLogger } from '../src/telemetry/logging.js';
import { createGateway } from '../src/app/gateway.js';
import type { Gateway } from '../src/app/gateway.js';
import { startLoadTopology } from './support/load-topology.js';
import { challengeHistoryBody, startScriptableUpstream } from './support/scriptable-upstream.js';
import type { ScriptedResponse } from './support/scriptable-upstream.js';

const CONCURRENCY = Number(process.env.CONCURRENCY ?? 100);
const DURATION_S = Number(process.env.DURATION_S ?? 10);
const FAULT_RATE = Number(process.env.FAULT_RATE ?? 0.01);
const MAX_KEYS = 200_000; // a second bound, whatever the machine's speed
const MAX_ATTEMPTS = 6;
const DOUBLE_CLICK_SHARE = 0.1;
const REPEAT_SUCCESS_SHARE = 0.1;
const UPSTREAM_TIMEOUT_MS = 1_000;
const FLOOD_CLIENTS = Number(process.env.FLOOD_CLIENTS ?? 8);
const MAX_FLOOD_REQUESTS = 50_000; // a second bound on the flood, whatever the machine's speed
const BOGUS_TOKEN = 'bogus-';
const APQ_MAX_BYTES = 4 * 1024 * 1024;

/** Faults after the record was created: the outcome is unknown to the client. */
const AFTER_CREATING: ScriptedResponse[] = [
  { reset: 'before-response' },
  { status: 500, body: 'Internal Server Error' },
  { delayMs: UPSTREAM_TIMEOUT_MS + 500 },
  { status: 200, body: '<html>maintenance</html>' },
];
const REFUSAL: ScriptedResponse = { status: 429, headers: { 'retry-after': '1' } };

const MUTATION = `mutation Award($input: AddChallengeHistoryInput!) {
  addChallengeHistory(ambassadorId: "7", input: $input) {
    __typename ... on AddChallengeHistorySuccess { replayed challengeHistory { id } } } }`;

type Answer = { kind: 'success'; id: string } | { kind: 'unknown' } | { kind: 'retryable'; code: string } | { kind: 'unexpected'; text: string };

export async function runKeyedLoadTest(): Promise<void> {
  const topology = await startLoadTopology(process.env.REDIS_TOPOLOGY);
  const upstream = await startScriptableUpstream();
  const recordsByMessage = new Map<string, number>();
  let nextId = 1;
  upstream.respondWith((request) => {
    if (upstream.requests.length > 1_000) upstream.requests.length = 0; // the recorder is not what is measured
    if (String(request.headers.authorization).startsWith(`Bearer ${BOGUS_TOKEN}`)) return { status: 401, delayMs: Math.random() * 50 };
    const roll = Math.random();
    if (roll < FAULT_RATE / 5) return REFUSAL;
    const message = (request.json as { message: string }).message;
    recordsByMessage.set(message, (recordsByMessage.get(message) ?? 0) + 1);
    const body = challengeHistoryBody({ id: nextId++, message });
    if (roll < FAULT_RATE) return { body, ...AFTER_CREATING[Math.floor(Math.random() * AFTER_CREATING.length)]! };
    return { status: 201, body, delayMs: 5 + Math.random() * 20 };
  });

  const env = { NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0', UPSTREAM_URL: upstream.url.href, APQ_MAX_BYTES: String(APQ_MAX_BYTES), ...topology.env };
  const instances: Gateway[] = [];
  const pools: { pool: Pool; path: string }[] = [];
  for (let i = 0; i < 2; i++) {
    const config = loadConfig({ ...env, UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS), LOG_LEVEL: 'error' });
    const gateway = createGateway(config, { logger: createLogger({ level: 'warn', write: (line) => { if (process.env.LOAD_TEST_LOGS) process.stderr.write(`${Date.now()} ${line}\n`); } }) });
    const url = await gateway.listen();
    instances.push(gateway);
    pools.push({ pool: new Pool(url.origin, { connections: CONCURRENCY, pipelining: 1 }), path: url.pathname });
  }

  const counts = new Map<string, number>();
  const count = (what: string, n = 1) => counts.set(what, (counts.get(what) ?? 0) + n);
  const finals = { success: 0, unknown: 0, gaveUp: 0 };
  let keys = 0;
  let replayMismatches = 0;

  // When keyed awards were refused for want of a store, and when each was served (by when it was sent), per instance.
  const refusedAt: number[] = [];
  const servedSentAt: number[][] = pools.map(() => []);
  async function send(key: string, message: string): Promise<Answer> {
    const instance = Math.floor(Math.random() * pools.length);
    const { pool, path } = pools[instance]!;
    count('attempts');
    const sentAt = Date.now();
    try {
      const res = await pool.request({
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', authorization: 'Bearer load-test-token' },
        body: JSON.stringify({ query: MUTATION, variables: { input: { points: 10, score: 1.5, message, idempotencyKey: key } } }),
      });
      const answer = classify(await res.body.text());
      if (answer.kind === 'retryable' && answer.code === 'IDEMPOTENCY_STORE_UNAVAILABLE') refusedAt.push(Date.now());
      if (answer.kind === 'success') servedSentAt[instance]!.push(sentAt);
      return answer;
    } catch (error) {
      return { kind: 'unexpected', text: `transport ${(error as Error).message}` };
    }
  }

  async function award(): Promise<void> {
    let unavailableRetries = 0;
    const key = randomUUID();
    const message = `award-${key}`;
    keys += 1;
    const first = Math.random() < DOUBLE_CLICK_SHARE ? await Promise.all([send(key, message), send(key, message)]) : [await send(key, message)];
    let answer = first[0]!;
    if (first.length === 2) {
      const [a, b] = first as [Answer, Answer];
      if (a.kind === 'success' && b.kind === 'success' && a.id !== b.id) replayMismatches += 1;
    }
    for (let attempt = 1; answer.kind !== 'success' && answer.kind !== 'unexpected' && attempt < MAX_ATTEMPTS; attempt++) {
      if (answer.kind === 'retryable') count(`retried after ${answer.code}`);
      // A store being failed over: the same key again every 100 ms, up to 200 times (20 s), as a patient client.
      if (answer.kind === 'retryable' && answer.code === 'IDEMPOTENCY_STORE_UNAVAILABLE' && unavailableRetries < 200) {
        unavailableRetries += 1;
        attempt -= 1;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      if (answer.kind === 'unknown') count('retried after outcomeUnknown');
      answer = await send(key, message);
    }
    if (answer.kind === 'success' && Math.random() < REPEAT_SUCCESS_SHARE) {
      count('repeated successes');
      let repeat = await send(key, message);
      for (let waited = 0; repeat.kind === 'retryable' && repeat.code === 'IDEMPOTENCY_STORE_UNAVAILABLE' && waited < 200; waited++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        repeat = await send(key, message);
      }
      // A settle the old master acknowledged but never replicated leaves the record started: the repeat
      // says outcomeUnknown (never a second POST). Only another record's id would be a double award.
      if (repeat.kind === 'unknown' && topology.name !== 'single') count('repeats answered outcomeUnknown (settle lost in a failover)');
      else if (repeat.kind !== 'success' || repeat.id !== answer.id) replayMismatches += 1;
    }
    if (answer.kind === 'unexpected') count(`unexpected: ${answer.text}`);
    else if (answer.kind === 'success') finals.success += 1;
    else if (answer.kind === 'unknown') finals.unknown += 1;
    else finals.gaveUp += 1;
  }

  async function client(until: number): Promise<void> {
    while (Date.now() < until && keys < MAX_KEYS) await award();
  }

  // The anonymous flood: keyed awards under bogus tokens, and 60 KB APQ registrations with no token.
  const flood = new Map<string, number>();
  let floodRequests = 0;
  async function floodClient(until: number): Promise<void> {
    while (Date.now() < until && floodRequests < MAX_FLOOD_REQUESTS) {
      const { pool, path } = pools[floodRequests++ % pools.length]!;
      const registration = floodRequests % 2 === 0;
      const query = registration ? `# ${randomBytes(30_000).toString('hex')}\n{ __typename }` : MUTATION;
      const body = registration
        ? { query, extensions: { persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(query).digest('hex') } } }
        : { query, variables: { input: { points: 10, score: 1.5, message: 'flood', idempotencyKey: randomUUID() } } };
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (!registration) headers.authorization = `Bearer ${BOGUS_TOKEN}${randomUUID()}`;
      try {
        const res = await pool.request({ method: 'POST', path, headers, body: JSON.stringify(body) });
        const answer = JSON.parse(await res.body.text()) as { errors?: { extensions?: { code?: string } }[] };
        const what = `${registration ? 'APQ registration' : 'bogus-token keyed award'}: ${answer.errors?.[0]?.extensions?.code ?? 'ok'}`;
        flood.set(what, (flood.get(what) ?? 0) + 1);
      } catch (error) {
        flood.set(`flood transport error: ${(error as Error).message}`, (flood.get(`flood transport error: ${(error as Error).message}`) ?? 0) + 1);
      }
    }
  }

  const started = Date.now();
  const disturbed = topology.disturb(DURATION_S * 1_000);
  await Promise.all([
    ...Array.from({ length: CONCURRENCY }, () => client(started + DURATION_S * 1_000)),
    ...Array.from({ length: FLOOD_CLIENTS }, () => floodClient(started + DURATION_S * 1_000)),
  ]);
  const events = await disturbed;
  const elapsedS = (Date.now() - started) / 1_000;
  await new Promise((resolve) => setTimeout(resolve, UPSTREAM_TIMEOUT_MS + 500)); // late upstream answers settle

  const created = [...recordsByMessage.values()].reduce((sum, n) => sum + n, 0);
  const keysWithTwoRecords = [...recordsByMessage.values()].filter((n) => n > 1).length;
  console.log(`keyed load test: ${CONCURRENCY} retrying clients, ${DURATION_S} s, 2 instances on ${topology.description}, ${FAULT_RATE * 100}% injected upstream faults`);
  console.log(`  ${keys} keys, ${counts.get('attempts') ?? 0} attempts in ${elapsedS.toFixed(1)} s`);
  for (const [what, n] of [...counts].filter(([what]) => what !== 'attempts').sort((a, b) => b[1] - a[1])) {
    console.log(`  ${String(n).padStart(8)}  ${what}`);
  }
  console.log(`  records created upstream: ${created}`);
  console.log(`  keys that succeeded: ${finals.success}, left outcomeUnknown: ${finals.unknown}, gave up (nothing sent or refused): ${finals.gaveUp}`);
  console.log(`  anonymous flood beside them (${FLOOD_CLIENTS} clients): ${floodRequests} requests`);
  for (const [what, n] of [...flood].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(8)}  ${what}`);
  // Summed over the master(s) the gateways wrote to.
  let usedMemory = 0;
  let evicted = 0;
  for (const port of await topology.masterPorts()) {
    const info = new Redis({ host: '127.0.0.1', port });
    usedMemory += Number(/^used_memory:(\d+)/m.exec(await info.info('memory'))![1]);
    evicted += Number(/^evicted_keys:(\d+)/m.exec(await info.info('stats'))![1]);
    info.disconnect();
  }
  console.log(`  Redis used_memory: ${(usedMemory / 2 ** 20).toFixed(1)} MiB (APQ_MAX_BYTES ${(APQ_MAX_BYTES / 2 ** 20).toFixed(0)} MiB); evicted keys: ${evicted}`);
  // Why keyed awards were refused, from the instances' own counter (by reason).
  const reasons = new Map<string, number>();
  for (const gateway of instances) {
    for (const { labels, value } of (await gateway.metrics.idempotencyStoreUnavailable.get()).values) {
      if (value > 0) reasons.set(String(labels.reason), (reasons.get(String(labels.reason)) ?? 0) + value);
    }
  }
  console.log(`  keyed awards refused by reason: ${[...reasons].map(([reason, n]) => `${reason} ${n}`).join(', ') || 'none'}`);
  console.log(`  double records (keys that created two records): ${keysWithTwoRecords}; replayed answers that differ: ${replayMismatches}`);
  // Each move made to the store: the refusals it cost, for how long, and how soon keyed awards were served again.
  const slowRecoveries: string[] = [];
  for (const [i, event] of events.entries()) {
    const until = events[i + 1]?.at ?? Infinity;
    const refusals = refusedAt.filter((t) => t >= event.at && t < until);
    // The instance that came back last: the first award it served that was sent after the move.
    const firsts = servedSentAt.map((sent) => sent.filter((t) => t >= event.at && t < until).sort((a, b) => a - b)[0]);
    const servedAfter = firsts.includes(undefined) ? undefined : Math.max(...(firsts as number[]));
    const refusedFor = refusals.length > 0 ? `${((refusals.at(-1)! - refusals[0]!) / 1000).toFixed(1)} s` : '0 s';
    const recovery = servedAfter === undefined ? 'never' : `${((servedAfter - event.doneAt) / 1000).toFixed(1)} s`;
    const served = event.failover ? `; every instance served a keyed award sent after the kill ${recovery} after the promotion was announced` : '';
    console.log(`  ${event.what} in ${((event.doneAt - event.at) / 1000).toFixed(1)} s: ${refusals.length} keyed awards refused over ${refusedFor}${served}`);
    if (event.failover && (servedAfter === undefined || servedAfter - event.doneAt > 10_000)) slowRecoveries.push(event.what);
  }

  for (const { pool } of pools) await pool.close();
  for (const gateway of instances) await gateway.close();
  await upstream.close();
  await topology.stop();

  const unexpected = [...counts.keys()].filter((what) => what.startsWith('unexpected'));
  const failures = [
    ...(keysWithTwoRecords > 0 ? [`${keysWithTwoRecords} key(s) created two records`] : []),
    ...(created !== finals.success + finals.unknown ? [`records created (${created}) != succeeded + outcomeUnknown (${finals.success + finals.unknown})`] : []),
    ...(replayMismatches > 0 ? [`${replayMismatches} replayed answer(s) differ`] : []),
    ...(slowRecoveries.length > 0 ? [`keyed awards not served within 10 s of the promotion (${slowRecoveries.join('; ')})`] : []),
    ...(unexpected.length > 0 ? [`${unexpected.length} kind(s) of unexpected response`] : []),
    ...(evicted > 0 ? [`Redis evicted ${evicted} key(s)`] : []),
  ];
  console.log(failures.length === 0 ? 'PASS' : `FAIL: ${failures.join('; ')}`);
  process.exit(failures.length === 0 ? 0 : 1);
}

/** What a client does next: done (success, unknown outcome), retry with the same key, or a bug. */
function classify(text: string): Answer {
  const body = JSON.parse(text) as {
    data?: { addChallengeHistory?: { __typename?: string; challengeHistory?: { id: string } } } | null;
    errors?: { extensions?: { code?: string; outcomeUnknown?: boolean } }[];
  };
  const result = body.data?.addChallengeHistory;
  if (result?.__typename === 'AddChallengeHistorySuccess' && result.challengeHistory) return { kind: 'success', id: result.challengeHistory.id };
  const extensions = body.errors?.[0]?.extensions;
  if (extensions?.outcomeUnknown === true) return { kind: 'unknown' };
  if (extensions?.code === 'RATE_LIMITED' || extensions?.code === 'IDEMPOTENCY_STORE_UNAVAILABLE') return { kind: 'retryable', code: extensions.code };
  return { kind: 'unexpected', text: text.slice(0, 200) };
}
