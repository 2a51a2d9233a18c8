// A real redis-server for tests: its own process on a free loopback port, persistence off, stopped
// (or frozen, or restarted on the same port) when a test says so.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface TestRedis {
  /** redis://127.0.0.1:PORT */
  url: string;
  port: number;
  /** The server process's pid (for CPU figures); null while stopped. */
  pid(): number | null;
  /** Stops the server (its data goes with it: persistence is off). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT: the socket stays open but nothing answers. */
  freeze(): void;
  thaw(): void;
}

/** More redis-server arguments, after the defaults (a later one wins): `['--appendonly', 'yes']`, `['--replicaof', ...]`. */
export async function startRedis({ args = [] }: { args?: string[] } = {}): Promise<TestRedis> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  // A directory of its own: its append-only file or a replica's RDB is read by this server's restart
  // only (a shared one made every server load whatever dump.rdb another test's replica left there).
  const dir = mkdtempSync(join(tmpdir(), 'redis-test-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));

  const start = async () => {
    const defaults = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    const aofPlace = ['--dir', dir];
    child = spawn('redis-server', [...defaults, ...aofPlace, ...args], { stdio: 'ignore' });
    const deadline = Date.now() + 5_000;
    while (!(await ping(port))) {
      if (Date.now() > deadline) throw new Error(`redis-server did not start on port ${port}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const stop = async () => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    running.kill('SIGCONT');
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    start,
    pid: () => child?.pid ?? null,
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
  };
}

/** True when redis-server is installed (.ci/run installs it); tests that need it skip, saying why, without it. */
export async function hasRedisServer(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = spawn('redis-server', ['--version'], { stdio: 'ignore' });
    probe.once('error', () => resolve(false));
    probe.once('exit', (code) => resolve(code === 0));
  });
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether a redis-server answers PING on this port (bounded to 1 s). */
export function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    const done = (up: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(up);
    };
    const timer = setTimeout(() => done(false), 1_000);
    socket.on('error', () => done(false));
    socket.on('data', (chunk) => done(chunk.toString('utf8').startsWith('+PONG')));
    socket.write('PING\r\n');
  });
}
