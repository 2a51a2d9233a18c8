// `npm run bench`: the gateway against the floor and Apollo Server on one canned-JSON upstream,
// then batch awarding against aliased fields. Loopback only; every load loop bounded in time and
// count. Prints a table and writes bench/results.json. Absolute numbers on a shared 2-core machine
// are noise: read the ratios, which come from one run with interleaved rounds.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import autocannon from 'autocannon';
import { Client } from 'undici';
import {
  AMBASSADOR_ID,
  BENCH_BODIES,
  GRAPHQL_BODY,
  GRAPHQL_HEADERS,
  TOKEN,
  UPSTREAM_BODY,
  UPSTREAM_PATH,
  VARIABLES,
  cpuMicros,
  freePort,
  peakRssMiB,
} from './shared.js';
import { keyedBench, printKeyedTable } from './keyed.js';
import { laneExecutorsBench, printExecutorsTable } from './lane-executors.js';
import { printProtectionTable, protectionBench } from './protection.js';
import { startupBench } from './startup.js';
import type { StartupRow } from './startup.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LOAD_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const SINGLE_MAX_REQUESTS = 2_000;
const SINGLE_MAX_MS = 2_000;
const BATCH_ITEMS = 200;
const BATCH_LATENCY_MS = 20;
const BATCH_REPEATS = 2;
/** The lane executor A/B (lane-executors.ts): rounds per variant and document, operations per round. */
const EXECUTOR_ROUNDS = Number(process.env.BENCH_EXECUTOR_ROUNDS ?? 6);
const EXECUTOR_OPS = Number(process.env.BENCH_EXECUTOR_OPS ?? 2_000);
/** Set BENCH_PROFILE=1 to run the gateway under --cpu-prof (profiles land in bench/profiles/). */
const PROFILE = process.env.BENCH_PROFILE === '1';

const dist = new URL('../', import.meta.url); // dist/ (this file is dist/bench/run.js)
const started: ChildProcess[] = [];

type DocumentName = keyof typeof BENCH_BODIES;

interface Target {
  name: string;
  label: string;
  /** The GraphQL peer this row measures (gateway, floor, ...), shared by both documents' rows. */
  peer: string;
  document: DocumentName | null;
  url: string;
  body: string;
  headers: Record<string, string>;
  process: ChildProcess;
}

/** Log lines each gateway process wrote (its stdout is a pipe, as under a log collector). */
const logLines = new Map<ChildProcess, number>();

function startProcess(script: string, env: Record<string, string>, nodeArgs: string[] = [], countLogLines = false): ChildProcess {
  const child = spawn(process.execPath, [...nodeArgs, new URL(script, dist).pathname], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', countLogLines ? 'pipe' : 'ignore', 'inherit'],
  });
  if (countLogLines) {
    logLines.set(child, 0);
    child.stdout!.on('data', (chunk: Buffer) => {
      let n = 0;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++;
      logLines.set(child, logLines.get(child)! + n);
    });
  }
  started.push(child);
  return child;
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { method: 'POST', body, headers });
  return { status: response.status, text: await response.text() };
}

/** Polls until the target answers 200 (at most 15 s). */
async function ready(target: Pick<Target, 'url' | 'body' | 'headers' | 'name'>): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt++) {
    const answered = await post(target.url, target.body, target.headers).catch(() => null);
    if (answered && answered.status < 300) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${target.name} did not become ready`);
}

async function load(target: Target, seconds: number, connections: number) {
  return autocannon({ url: target.url, method: 'POST', body: target.body, headers: target.headers, connections, duration: seconds, timeout: 10 });
}

/** Sequential requests on one keep-alive connection, timed in microseconds. */
async function oneConnection(target: Target): Promise<number[]> {
  const url = new URL(target.url);
  const client = new Client(url.origin, { pipelining: 1 });
  const latencies: number[] = [];
  const deadline = performance.now() + SINGLE_MAX_MS;
  try {
    while (latencies.length < SINGLE_MAX_REQUESTS && performance.now() < deadline) {
      const t0 = performance.now();
      const response = await client.request({ method: 'POST', path: url.pathname, headers: target.headers, body: target.body });
      await response.body.text();
      if (response.statusCode < 300) latencies.push((performance.now() - t0) * 1000);
    }
  } finally {
    await client.close();
  }
  return latencies;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 50);
const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

interface Totals {
  answered: number;
  seconds: number;
  errors: number;
  cpuMicros: number;
  p50: number[];
  p99: number[];
  single: number[];
}

/** BENCH_ONLY=protection: the upstream-protection rows alone (a reduced trial run of just them). */
async function protectionOnly(): Promise<void> {
  const upstreamPort = await freePort();
  startProcess('bench/upstream.js', { PORT: String(upstreamPort) });
  const upstreamUrl = `http://127.0.0.1:${upstreamPort}/api/v2`;
  const result = await protectionBench((port, env) => startGatewayProcess(port, upstreamUrl, undefined, env), stopGateway, `http://127.0.0.1:${upstreamPort}`);
  printProtectionTable(result);
}

async function main(): Promise<void> {
  if (process.env.BENCH_ONLY === 'protection') return protectionOnly();
  const [upstreamPort, floorPort, gatewayPort, apolloPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const upstreamUrl = `http://127.0.0.1:${upstreamPort}/api/v2`;
  const upstream = startProcess('bench/upstream.js', { PORT: String(upstreamPort) });
  const common = { PORT: '', UPSTREAM_URL: upstreamUrl, NODE_ENV: 'production' };
  if (process.env.BENCH_ONLY === 'keyed') {
    // The keyed rows alone (BENCH_ONLY=keyed npm run bench): printed, results.json untouched.
    printKeyedTable(await keyedBench((port, env) => startGatewayProcess(port, upstreamUrl, undefined, env), stopGateway));
    upstream.kill('SIGTERM');
    return;
  }
  const executorsBench = () => laneExecutorsBench(upstreamUrl, { rounds: EXECUTOR_ROUNDS, opsPerRound: EXECUTOR_OPS, concurrency: CONNECTIONS });
  if (process.env.BENCH_ONLY === 'executors') {
    // The lane executor A/B alone (BENCH_ONLY=executors npm run bench): printed, results.json untouched.
    await ready({ name: 'upstream', url: `http://127.0.0.1:${upstreamPort}${UPSTREAM_PATH(AMBASSADOR_ID)}`, body: UPSTREAM_BODY, headers: { authorization: `Bearer ${TOKEN}` } });
    printExecutorsTable(await executorsBench());
    upstream.kill('SIGTERM');
    return;
  }
  const floor = startProcess('bench/peers/floor.js', { ...common, PORT: String(floorPort) });
  const gateway = startGatewayProcess(gatewayPort, upstreamUrl);
  const apollo = startProcess('bench/peers/apollo.js', { ...common, PORT: String(apolloPort) });
  // BENCH_BASELINE_MAIN=<another build's gateway.mjs, under dist/> adds that gateway as a target: before/after in one run.
  const baselineMain = process.env.BENCH_BASELINE_MAIN;
  const baselinePort = await freePort();
  // BENCH_BASELINE_NODE_ARGS="--max-semi-space-size=4" gives it node flags (with the same build: a V8 flag's effect).
  const baselineNodeArgs = process.env.BENCH_BASELINE_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const baseline = baselineMain ? startGatewayProcess(baselinePort, upstreamUrl, baselineMain, {}, baselineNodeArgs) : null;

  const peers = [
    { peer: 'floor', label: '(b) floor: node:http + undici', port: floorPort, child: floor, path: '/' },
    { peer: 'gateway', label: '(c) this gateway (npm start)', port: gatewayPort, child: gateway, path: '/graphql' },
    { peer: 'apollo', label: '(d) Apollo Server 5 + RESTDataSource', port: apolloPort, child: apollo, path: '/' },
    ...(baseline ? [{ peer: 'baseline', label: `(c0) gateway, baseline build${baselineNodeArgs.length ? ` (${baselineNodeArgs.join(' ')})` : ''}`, port: baselinePort, child: baseline, path: '/graphql' }] : []),
  ];
  const graphqlTargets = (Object.keys(BENCH_BODIES) as DocumentName[]).flatMap((document) =>
    peers.map(({ peer, label, port, child, path }): Target => ({
      name: document === 'full' ? peer : `${peer}/${document}`,
      label: document === 'full' ? label : `${label}, small document`,
      peer,
      document,
      url: `http://127.0.0.1:${port}${path}`,
      body: BENCH_BODIES[document],
      headers: GRAPHQL_HEADERS,
      process: child,
    })),
  );
  const targets: Target[] = [
    {
      name: 'upstream',
      label: '(a) upstream REST directly',
      peer: 'upstream',
      document: null,
      url: `http://127.0.0.1:${upstreamPort}${UPSTREAM_PATH(AMBASSADOR_ID)}`,
      body: UPSTREAM_BODY,
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${TOKEN}` },
      process: upstream,
    },
    ...graphqlTargets,
  ];
  await Promise.all(targets.map(ready));
  for (const document of Object.keys(BENCH_BODIES)) await checkSameAnswers(graphqlTargets.filter((t) => t.document === document));

  console.log(`warming up (${targets.length} targets x 2 s)...`);
  for (const target of targets) await load(target, 2, CONNECTIONS);

  const totals = new Map<string, Totals>(targets.map((t) => [t.name, { answered: 0, seconds: 0, errors: 0, cpuMicros: 0, p50: [], p99: [], single: [] }]));
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round, so drift on a shared machine hits every target alike.
    const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
    for (const target of order) {
      const pid = target.process.pid!;
      const total = totals.get(target.name)!;
      const cpuBefore = cpuMicros(pid);
      const result = await load(target, LOAD_SECONDS, CONNECTIONS);
      total.cpuMicros += cpuMicros(pid) - cpuBefore;
      total.answered += result['2xx'] + result.non2xx;
      total.seconds += result.duration;
      total.errors += result.errors + result.timeouts + result.non2xx;
      total.p50.push(result.latency.p50);
      total.p99.push(result.latency.p99);
      total.single.push(...(await oneConnection(target)));
      process.stdout.write(`round ${round + 1}/${ROUNDS} ${target.name}: ${Math.round(result['2xx'] / result.duration)} req/s\n`);
    }
  }

  const peakRss = new Map(peers.map(({ peer, child }) => [peer, Math.round(peakRssMiB(child.pid!) * 10) / 10]));
  const rows = targets.map((target) => {
    const t = totals.get(target.name)!;
    const single = [...t.single].sort((a, b) => a - b);
    const rss = peakRss.get(target.peer) ?? Math.round(peakRssMiB(target.process.pid!) * 10) / 10;
    return {
      target: target.name,
      label: target.label,
      requestsPerSecond: Math.round(t.answered / t.seconds),
      p50Ms: median(t.p50),
      p99Ms: median(t.p99),
      errors: t.errors,
      // One process serves both documents: its high-water mark covers both.
      peakRssMiB: rss,
      peakRssToApollo: round2(rss / peakRss.get('apollo')!),
      cpuMicrosPerRequest: Math.round(t.cpuMicros / t.answered),
      oneConnectionMeanMs: Math.round(mean(single)) / 1000,
      oneConnectionP99Ms: Math.round(percentile(single, 99)) / 1000,
    };
  });
  const row = (name: string) => rows.find((r) => r.target === name)!;
  const ratiosFor = (suffix: string) => {
    const [gw, fl, ap] = [row(`gateway${suffix}`), row(`floor${suffix}`), row(`apollo${suffix}`)];
    return {
      cpuPerRequest: { gatewayToFloor: round2(gw.cpuMicrosPerRequest / fl.cpuMicrosPerRequest), gatewayToApollo: round2(gw.cpuMicrosPerRequest / ap.cpuMicrosPerRequest) },
      throughput: { gatewayToFloor: round2(gw.requestsPerSecond / fl.requestsPerSecond), gatewayToApollo: round2(gw.requestsPerSecond / ap.requestsPerSecond) },
      p99UnderLoad: { gatewayToFloor: round2(gw.p99Ms / fl.p99Ms), gatewayToApollo: round2(gw.p99Ms / ap.p99Ms) },
      oneConnectionMeanAboveFloorMs: Math.round((gw.oneConnectionMeanMs - fl.oneConnectionMeanMs) * 1000) / 1000,
      p99AtMostApollos: gw.p99Ms <= ap.p99Ms,
    };
  };
  const ratios = { full: ratiosFor(''), small: ratiosFor('/small'), peakRssGatewayToApollo: row('gateway').peakRssToApollo };
  const gatewayLogLines = logLines.get(gateway) ?? 0;

  for (const child of [floor, apollo, baseline]) child?.kill('SIGTERM');
  await stopGateway(gateway);
  const batch = process.env.BENCH_SKIP_BATCH === '1' ? null : await batchBench();
  const keyed =
    process.env.BENCH_SKIP_KEYED === '1' ? null : await keyedBench((port, env) => startGatewayProcess(port, upstreamUrl, undefined, env), stopGateway);
  const startup = process.env.BENCH_SKIP_STARTUP === '1' ? null : await startupBench(dist, { ...common, HOST: '127.0.0.1' });
  const protection =
    process.env.BENCH_SKIP_PROTECTION === '1'
      ? null
      : await protectionBench((port, env) => startGatewayProcess(port, upstreamUrl, undefined, env), stopGateway, `http://127.0.0.1:${upstreamPort}`);

  const executors = process.env.BENCH_SKIP_EXECUTORS === '1' ? null : await executorsBench();

  const startupOf = (name: string) => startup?.find((r) => r.target === name)?.medianMs ?? NaN;
  const targetsMet = {
    'cpu/request <= 0.5x Apollo': ratios.full.cpuPerRequest.gatewayToApollo <= 0.5,
    'cpu/request <= 2.5x floor': ratios.full.cpuPerRequest.gatewayToFloor <= 2.5,
    'throughput >= 2x Apollo': ratios.full.throughput.gatewayToApollo >= 2,
    'throughput >= 30% of floor': ratios.full.throughput.gatewayToFloor >= 0.3,
    'one-connection mean <= floor + 0.5 ms': ratios.full.oneConnectionMeanAboveFloorMs <= 0.5,
    "p99 under load <= Apollo's (both documents)": ratios.full.p99AtMostApollos && ratios.small.p99AtMostApollos,
    "peak RSS <= 1.1x Apollo's": ratios.peakRssGatewayToApollo <= 1.1,
    ...(startup
      ? { 'node to /health <= 1 s (median of 5)': startupOf('gateway') <= 1000, 'npm start to /health <= 2 s (median of 5)': startupOf('npm start') <= 2000 }
      : {}),
    ...(batch ? { 'batch >= 6x 200 aliased fields, exactly 200 POSTs': batch.targetMet } : {}),
  };

  const results = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, loadAverageAtEnd: loadavg().map((l) => round2(l)) },
    settings: { rounds: ROUNDS, loadSeconds: LOAD_SECONDS, connections: CONNECTIONS, singleMaxRequests: SINGLE_MAX_REQUESTS },
    rows,
    ratios,
    targetsMet,
    gatewayLogLines,
    batch,
    keyed,
    startup,
    protection,
    executors,
  };
  writeFileSync(new URL('../../bench/results.json', import.meta.url), JSON.stringify(results, null, 2) + '\n');
  printTable(results);
  if (keyed) printKeyedTable(keyed);
  if (startup) printStartupTable(startup);
  if (protection) printProtectionTable(protection);
  if (executors) printExecutorsTable(executors);
}

function printStartupTable(rows: StartupRow[]): void {
  const apollo = rows.find((r) => r.target === 'apollo')?.medianMs ?? NaN;
  console.log(`\nstart-up: spawn to the first answer (gateway: GET /health 200), median of ${rows[0]?.ms.length ?? 0} cold starts, interleaved`);
  console.log('| target | median ms | x Apollo | runs ms |\n| --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.target} | ${r.medianMs} | ${round2(r.medianMs / apollo)} | ${r.ms.join(', ')} |`);
}

function startGatewayProcess(port: number, upstreamUrl: string, main = 'gateway.mjs', env: Record<string, string> = {}, nodeArgs: string[] = []): ChildProcess {
  return startProcess(
    main,
    {
      NODE_ENV: 'production',
      UPSTREAM_URL: upstreamUrl,
      HOST: '127.0.0.1',
      PORT: String(port),
      // Issue 3's document bounds, raised so the 200 aliased fields of the batch comparison run.
      GRAPHQL_MAX_ALIASES: '500',
      GRAPHQL_MAX_ROOT_FIELDS: '500',
      GRAPHQL_MAX_TOKENS: '100000',
      ...env,
    },
    [...nodeArgs, ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${new URL('../../bench/profiles', import.meta.url).pathname}`] : [])],
    true,
  );
}

function stopGateway(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** (b)-(d) must answer the bench document with the same data, or the comparison means nothing. */
async function checkSameAnswers(graphqlTargets: Target[]): Promise<void> {
  const answers = await Promise.all(graphqlTargets.map((t) => post(t.url, t.body, t.headers).then((a) => JSON.parse(a.text))));
  const [reference] = answers;
  if (reference.errors || !reference.data?.addChallengeHistory?.challengeHistory) throw new Error(`bad answer: ${JSON.stringify(reference)}`);
  answers.forEach((answer, i) => {
    if (!isDeepStrictEqual(answer, reference)) {
      throw new Error(`${graphqlTargets[i]!.name} answers differently:\n${JSON.stringify(answer)}\nvs ${graphqlTargets[0]!.name}:\n${JSON.stringify(reference)}`);
    }
  });
}

/** 200 awards, upstream at 20 ms: one addChallengeHistories vs 200 aliased addChallengeHistory fields. */
async function batchBench() {
  const slowPort = await freePort();
  const slowOrigin = `http://127.0.0.1:${slowPort}`;
  startProcess('bench/upstream.js', { PORT: String(slowPort), LATENCY_MS: String(BATCH_LATENCY_MS) });
  const gatewayPort = await freePort();
  const gateway = startGatewayProcess(gatewayPort, `${slowOrigin}/api/v2`);
  const url = `http://127.0.0.1:${gatewayPort}/graphql`;
  await ready({ name: 'gateway (batch)', url, body: GRAPHQL_BODY, headers: GRAPHQL_HEADERS });

  const items = Array.from({ length: BATCH_ITEMS }, (_, i) => ({ ambassadorId: String(i + 1), input: VARIABLES.input }));
  const selection = '__typename ... on AddChallengeHistorySuccess { challengeHistory { id points } } ... on Error { message }';
  const variants = {
    batch: JSON.stringify({
      query: `mutation Batch($items: [AddChallengeHistoryItemInput!]!) { addChallengeHistories(items: $items) { ${selection} } }`,
      variables: { items },
    }),
    aliases: JSON.stringify({
      query: `mutation Aliased($input: AddChallengeHistoryInput!) {\n${items
        .map((item, i) => `  a${i}: addChallengeHistory(ambassadorId: "${item.ambassadorId}", input: $input) { ${selection} }`)
        .join('\n')}\n}`,
      variables: { input: VARIABLES.input },
    }),
  };
  const figures: Record<'batch' | 'aliases', { ms: number[]; upstreamPosts: number[]; successes: number[] }> = {
    batch: { ms: [], upstreamPosts: [], successes: [] },
    aliases: { ms: [], upstreamPosts: [], successes: [] },
  };
  for (let repeat = 0; repeat < BATCH_REPEATS; repeat++) {
    for (const name of ['aliases', 'batch'] as const) {
      await fetch(`${slowOrigin}/__reset`, { method: 'POST' });
      const t0 = performance.now();
      const answer = await post(url, variants[name], GRAPHQL_HEADERS);
      const ms = performance.now() - t0;
      const data = JSON.parse(answer.text).data ?? {};
      const results: ({ __typename?: string } | null)[] = name === 'batch' ? (data.addChallengeHistories ?? []) : Object.values(data);
      figures[name].ms.push(Math.round(ms));
      figures[name].successes.push(results.filter((r) => r?.__typename === 'AddChallengeHistorySuccess').length);
      figures[name].upstreamPosts.push(Number(await (await fetch(`${slowOrigin}/__posts`)).text()));
    }
  }
  await stopGateway(gateway);
  const batchMs = median(figures.batch.ms);
  const aliasesMs = median(figures.aliases.ms);
  return {
    items: BATCH_ITEMS,
    upstreamLatencyMs: BATCH_LATENCY_MS,
    concurrency: 8,
    ...figures,
    medianMs: { batch: batchMs, aliases: aliasesMs },
    speedup: round2(aliasesMs / batchMs),
    targetMet: aliasesMs / batchMs >= 6 && [...figures.batch.upstreamPosts, ...figures.aliases.upstreamPosts].every((n) => n === BATCH_ITEMS),
  };
}

type Ratios = Record<'cpuPerRequest' | 'throughput' | 'p99UnderLoad', { gatewayToFloor: number; gatewayToApollo: number }> & {
  oneConnectionMeanAboveFloorMs: number;
};

const round2 = (x: number) => Math.round(x * 100) / 100;

function printTable(results: {
  rows: Record<string, string | number>[];
  ratios: Record<string, unknown>;
  targetsMet: Record<string, boolean>;
  batch: Awaited<ReturnType<typeof batchBench>> | null;
  date: string;
  machine: Record<string, unknown>;
  gatewayLogLines: number;
}): void {
  const header = ['target', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'peak RSS MiB', 'RSS x Apollo', 'CPU µs/req', '1-conn mean ms', '1-conn p99 ms'];
  const lines = results.rows.map((r) =>
    [r.label, r.requestsPerSecond, r.p50Ms, r.p99Ms, r.errors, r.peakRssMiB, r.peakRssToApollo, r.cpuMicrosPerRequest, r.oneConnectionMeanMs, r.oneConnectionP99Ms].map(String),
  );
  console.log(`\n${results.date}  ${JSON.stringify(results.machine)}  ${CONNECTIONS} connections, ${ROUNDS} rounds x ${LOAD_SECONDS} s; gateway log lines: ${results.gatewayLogLines}\n`);
  console.log(`| ${header.join(' | ')} |\n|${header.map(() => ' --- ').join('|')}|`);
  for (const line of lines) console.log(`| ${line.join(' | ')} |`);
  const r = results.ratios as { full: Ratios; small: Ratios; peakRssGatewayToApollo: number };
  console.log('\n| ratio | full: gateway / floor | full: gateway / Apollo | small: gateway / floor | small: gateway / Apollo |\n| --- | --- | --- | --- | --- |');
  for (const [name, key] of [['CPU per request', 'cpuPerRequest'], ['throughput', 'throughput'], ['p99 under load', 'p99UnderLoad']] as const) {
    console.log(`| ${name} | ${r.full[key].gatewayToFloor} | ${r.full[key].gatewayToApollo} | ${r.small[key].gatewayToFloor} | ${r.small[key].gatewayToApollo} |`);
  }
  console.log(`| one-connection mean above the floor | +${r.full.oneConnectionMeanAboveFloorMs} ms | | +${r.small.oneConnectionMeanAboveFloorMs} ms | |`);
  console.log(`| peak RSS (one process, both documents) | | ${r.peakRssGatewayToApollo} | | |`);
  for (const [name, met] of Object.entries(results.targetsMet)) console.log(`  ${met ? 'met   ' : 'MISSED'} ${name}`);
  const b = results.batch;
  if (!b) return;
  console.log(
    `\nbatch, ${b.items} items, upstream ${b.upstreamLatencyMs} ms: addChallengeHistories ${b.medianMs.batch} ms vs ${b.items} aliased fields ${b.medianMs.aliases} ms` +
      ` -> ${b.speedup}x; upstream POSTs per run: batch ${b.batch.upstreamPosts.join(',')}, aliases ${b.aliases.upstreamPosts.join(',')}` +
      `; successes: batch ${b.batch.successes.join(',')}, aliases ${b.aliases.successes.join(',')}  ${b.targetMet ? 'met' : 'MISSED'} (>= 6x, exactly ${b.items} POSTs)`,
  );
}

try {
  await main();
} finally {
  for (const child of started) if (child.exitCode === null) child.kill('SIGTERM');
}
