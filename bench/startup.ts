// Start-up time: from spawning the process to its first answer, median of COLD_STARTS fresh
// processes per target, interleaved so drift on a shared machine hits every target alike. The
// gateway counts as started when GET /health answers 200; the peers, which have no such endpoint,
// when they answer any HTTP request (each of them listens only once it is ready to serve).

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { freePort } from './shared.js';

const COLD_STARTS = Number(process.env.BENCH_COLD_STARTS ?? 5);
const POLL_MS = 5;
const GIVE_UP_MS = 30_000;

export interface StartupRow {
  target: string;
  command: string;
  ms: number[];
  medianMs: number;
}

interface Launch {
  target: string;
  command: string;
  /** argv after the executable; the port is given through PORT. */
  spawn: (port: number) => ChildProcess;
  /** Whether an answer's status means "serving". */
  serving: (status: number) => boolean;
}

/** The status of GET http://127.0.0.1:port/health, or null when nothing answers yet. */
function probe(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/health', agent: false, timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? null);
    });
    req.on('error', () => resolve(null));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function timeOne(launch: Launch): Promise<number> {
  const port = await freePort();
  const t0 = performance.now();
  const child = launch.spawn(port);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    while (performance.now() - t0 < GIVE_UP_MS) {
      if (child.exitCode !== null) throw new Error(`${launch.target} exited with ${child.exitCode} before answering`);
      const status = await probe(port);
      if (status !== null && launch.serving(status)) return Math.round(performance.now() - t0);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    throw new Error(`${launch.target} did not answer within ${GIVE_UP_MS} ms`);
  } finally {
    // npm start runs the gateway as its child: signal the whole process group.
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }
}

/** Median start-up of the gateway (node and npm start), Apollo and the floor, from built dist/. */
export async function startupBench(dist: URL, env: Record<string, string>): Promise<StartupRow[]> {
  const root = new URL('../', dist);
  const node = (script: string) => (port: number) =>
    spawn(process.execPath, [new URL(script, dist).pathname], { env: { PATH: process.env.PATH, ...env, PORT: String(port) }, stdio: 'ignore', detached: true });
  const launches: Launch[] = [
    { target: 'gateway', command: 'node dist/gateway.mjs', spawn: node('gateway.mjs'), serving: (s) => s === 200 },
    {
      target: 'npm start',
      command: 'npm start',
      spawn: (port) =>
        spawn('npm', ['start', '--silent'], { cwd: root, env: { PATH: process.env.PATH, ...env, PORT: String(port) }, stdio: 'ignore', detached: true }),
      serving: (s) => s === 200,
    },
    { target: 'apollo', command: 'node dist/bench/peers/apollo.js', spawn: node('bench/peers/apollo.js'), serving: () => true },
    { target: 'floor', command: 'node dist/bench/peers/floor.js', spawn: node('bench/peers/floor.js'), serving: () => true },
  ];
  const ms = new Map(launches.map((l) => [l.target, [] as number[]]));
  for (let round = 0; round < COLD_STARTS; round++) {
    for (let i = 0; i < launches.length; i++) {
      const launch = launches[(i + round) % launches.length]!;
      ms.get(launch.target)!.push(await timeOne(launch));
    }
  }
  return launches.map(({ target, command }) => {
    const runs = ms.get(target)!;
    return { target, command, ms: runs, medianMs: [...runs].sort((a, b) => a - b)[Math.floor(runs.length / 2)]! };
  });
}
