// What each dependency costs at load: a fresh `node` imports one module and reports the time the
// import took and its RSS and heap after a GC, above a process that imports nothing. Median of
// RUNS processes per module, interleaved. Usage: node dist/bench/load-costs.js [module ...]
// (default: every runtime dependency, then the gateway's own entry points under dist/).

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const RUNS = Number(process.env.BENCH_LOAD_RUNS ?? 3);
const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { dependencies: Record<string, string> };

const PROBE = `
const t0 = performance.now();
if (process.argv[1]) await import(process.argv[1]);
const ms = performance.now() - t0;
globalThis.gc();
const { rss, heapUsed } = process.memoryUsage();
console.log(JSON.stringify({ ms, rss, heapUsed }));
process.exit(0); // an entry point (main.js) would serve forever
`;

interface Cost {
  ms: number;
  rss: number;
  heapUsed: number;
}

function measure(specifier: string): Cost {
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', PROBE, specifier], { cwd: root, encoding: 'utf8' });
  return JSON.parse(out) as Cost;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const MiB = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

const requested = process.argv.slice(2);
const modules = requested.length > 0 ? requested : [...Object.keys(pkg.dependencies), './dist/src/schema/index.js', './dist/src/server.js'];
const specifiers = ['', ...modules.map((m) => (m.startsWith('./') ? new URL(m, root).href : m))];
const runs = new Map(specifiers.map((s) => [s, [] as Cost[]]));
for (let round = 0; round < RUNS; round++) for (const s of specifiers) runs.get(s)!.push(measure(s));

const costOf = (s: string) => {
  const c = runs.get(s)!;
  return { ms: median(c.map((x) => x.ms)), rss: median(c.map((x) => x.rss)), heapUsed: median(c.map((x) => x.heapUsed)) };
};
const empty = costOf('');
console.log(`empty node process: RSS ${MiB(empty.rss)} MiB, heap ${MiB(empty.heapUsed)} MiB (median of ${RUNS})`);
console.log('| module | import ms | RSS above empty MiB | heap above empty MiB |\n| --- | --- | --- | --- |');
for (const [i, s] of specifiers.entries()) {
  if (s === '') continue;
  const c = costOf(s);
  console.log(`| ${modules[i - 1]} | ${Math.round(c.ms)} | ${MiB(c.rss - empty.rss)} | ${MiB(c.heapUsed - empty.heapUsed)} |`);
}
