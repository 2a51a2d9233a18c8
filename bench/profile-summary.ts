// Top self-time functions of a V8 .cpuprofile (node --cpu-prof), and self time per package.
// Usage: node dist/bench/profile-summary.js bench/profiles/CPU....cpuprofile [top=25]

import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, top = '25'] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file!, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfMicros = new Map<number, number>();
profile.samples.forEach((id, i) => selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
// Percentages of busy time: idle samples (the process waiting for I/O) are left out.
const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
for (const id of idle) selfMicros.delete(id);
const total = [...selfMicros.values()].reduce((a, b) => a + b, 0);

const where = (url: string) => url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(dist\/)/, '$1') || '(native)';
const pkg = (url: string) => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  return m ? m[1]! : url.startsWith('node:') ? 'node:internal' : url.includes('/dist/') ? 'gateway' : url || '(native/gc/idle)';
};
const functions = new Map<string, number>();
const packages = new Map<string, number>();
for (const [id, micros] of selfMicros) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const key = `${functionName || '(anonymous)'}  ${where(url)}:${lineNumber + 1}`;
  functions.set(key, (functions.get(key) ?? 0) + micros);
  packages.set(pkg(url), (packages.get(pkg(url)) ?? 0) + micros);
}
const print = (title: string, entries: Map<string, number>, n: number) => {
  console.log(`\n${title}`);
  for (const [name, micros] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(`${((100 * micros) / total).toFixed(1).padStart(5)}%  ${name}`);
  }
};
console.log(`busy: ${(total / 1000).toFixed(0)} ms`);
print('self time by package', packages, 15);
print(`top ${top} functions by self time`, functions, Number(top));
