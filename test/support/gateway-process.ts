// Starts the gateway as a real separate process (`node --import tsx src/main.ts`), for what one
// process cannot show: several instances on one store, and an instance killed with SIGKILL.

import { spawn } from 'node:child_process';
import type { ChildProcess, ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll } from 'vitest';
import { postGraphQL } from './gateway.js';
import { startRedis } from './redis.js';
import type { TestRedis } from './redis.js';
import { startScriptableUpstream } from './scriptable-upstream.js';
import type { ScriptableUpstream } from './scriptable-upstream.js';
import type { GraphQLRequest, GraphQLResponse } from './gateway.js';

export interface GatewayProcess {
  url: URL;
  pid: number;
  graphql(request: GraphQLRequest, options?: { token?: string | null }): Promise<GraphQLResponse>;
  /** SIGKILL: no drain, no settling of anything in flight. */
  kill(): Promise<void>;
  /** SIGTERM, as a deployment stops it. */
  close(): Promise<void>;
}

const ROOT = new URL('../../', import.meta.url);
// `listening on <url>`, or in sandbox mode (no UPSTREAM_URL) `GraphiQL:  <url>`.
const LISTENING = /(?:listening on|GraphiQL:)\s+(http:\/\/\S+)/;

/** A gateway process as `npm start` runs it (src/main.ts through tsx, or the bundle), its output collected. */
export interface MainProcess {
  child: ChildProcessByStdio<null, Readable, Readable>;
  stdout(): string;
  stderr(): string;
}

/** Spawns src/main.ts (or `entry`, e.g. dist/gateway.mjs) with only PATH, HOST, PORT=0 and `env`: no NODE_ENV unless given. */
export function spawnMain(env: Record<string, string>, entry?: string): MainProcess {
  const args = entry === undefined ? ['--import', 'tsx', new URL('src/main.ts', ROOT).pathname] : [entry];
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, stdout: () => stdout, stderr: () => stderr };
}

export async function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway process did not start:\n${output.join('')}`)), 60_000);
    // The listening line is plain text, so it goes to stderr (stdout carries JSON log lines only).
    child.stderr!.on('data', (chunk: Buffer) => {
      output.push(chunk.toString('utf8'));
      const match = LISTENING.exec(chunk.toString('utf8'));
      if (match) {
        clearTimeout(timer);
        resolve(new URL(match[1]!));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway process exited (${code}):\n${output.join('')}`));
    });
  });
  const stop = (signal: NodeJS.Signals) => exited(child, signal);
  return {
    url,
    pid: child.pid!,
    graphql: (request, options) => postGraphQL(url, request, options),
    kill: () => stop('SIGKILL'),
    close: () => stop('SIGTERM'),
  };
}

function exited(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/**
 * A redis-server, a scriptable upstream and two gateway processes on both (`env` added to
 * UPSTREAM_URL and REDIS_URL), started once for the calling describe block and stopped after it.
 */
export function useTwoGatewaysOnRedis(env: Record<string, string> = {}): { redis: TestRedis; upstream: ScriptableUpstream; a: GatewayProcess; b: GatewayProcess } {
  const fixture = {} as { redis: TestRedis; upstream: ScriptableUpstream; a: GatewayProcess; b: GatewayProcess };
  beforeAll(async () => {
    fixture.redis = await startRedis();
    fixture.upstream = await startScriptableUpstream();
    const all = { UPSTREAM_URL: fixture.upstream.url.href, REDIS_URL: fixture.redis.url, ...env };
    [fixture.a, fixture.b] = await Promise.all([startGatewayProcess(all), startGatewayProcess(all)]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([fixture.a?.close(), fixture.b?.close()]);
    await fixture.upstream?.close();
    await fixture.redis?.stop();
  });
  return fixture;
}
