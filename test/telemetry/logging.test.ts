// The log line's fields, and that stdout's asynchronous, buffered output loses no line when the
// real process is stopped with SIGTERM under load.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createLogger } from '../../src/telemetry/logging.js';
import { postGraphQL } from '../support/gateway.js';
import { challengeHistoryBody, startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream } from '../support/scriptable-upstream.js';
import { ADD, VALID_INPUT, eventually } from '../support/operations.js';

const ENTRY = new URL('../../src/main.ts', import.meta.url).pathname;
const CLIENTS = 8;
const REQUESTS_PER_CLIENT = 150;
const SIGTERM_AFTER = 300; // answered requests
const LOAD_MAX_MS = 30_000;

let upstream: ScriptableUpstream;
beforeAll(async () => {
  upstream = await startScriptableUpstream();
});
afterAll(() => upstream.close());

test('one JSON object per line: time (ISO 8601), level by name, msg, then the caller’s fields; below the level nothing', () => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', write: (line) => lines.push(line) });
  logger.debug('not written');
  logger.info('request', { status: 200, path: '/graphql', nested: { a: [1] }, absent: undefined, err: new Error('no stack') });
  logger.warn('redis unreachable', { error: 'ECONNREFUSED' });
  logger.error('bare');

  expect(lines.every((line) => line.endsWith('}\n') && !line.slice(0, -1).includes('\n'))).toBe(true);
  const parsed = lines.map((line) => JSON.parse(line));
  expect(parsed.map((p) => [p.level, p.msg])).toEqual([
    ['info', 'request'],
    ['warn', 'redis unreachable'],
    ['error', 'bare'],
  ]);
  for (const p of parsed) expect(new Date(p.time).toISOString()).toBe(p.time);
  expect(parsed[0]).toEqual({ time: parsed[0].time, level: 'info', msg: 'request', status: 200, path: '/graphql', nested: { a: [1] }, err: {} });
  expect(parsed[1]).toEqual({ time: parsed[1].time, level: 'warn', msg: 'redis unreachable', error: 'ECONNREFUSED' });
  expect(Object.keys(parsed[2]).sort()).toEqual(['level', 'msg', 'time']);
});

test('SIGTERM under load: every answered request has its log line on stdout, every line whole, exit 0', async () => {
  upstream.respondWith({ status: 201, body: challengeHistoryBody() });
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', UPSTREAM_URL: upstream.url.href },
    stdio: ['ignore', 'pipe', 'pipe'], // stdout a pipe, as under a log collector
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit');
  try {
    await eventually(() => /listening on (\S+)/.test(stderr), 30_000);
    const url = new URL(/listening on (\S+)/.exec(stderr)![1]!);

    let answered = 0;
    let signalled = false;
    const deadline = performance.now() + LOAD_MAX_MS;
    const client = async () => {
      for (let i = 0; i < REQUESTS_PER_CLIENT && performance.now() < deadline; i++) {
        const response = await postGraphQL(url, { query: ADD, variables: { ambassadorId: '7', input: VALID_INPUT } }).catch(() => null);
        if (response === null) return; // the gateway stopped accepting: this client is done
        answered++;
        if (answered >= SIGTERM_AFTER && !signalled) {
          signalled = true;
          child.kill('SIGTERM'); // while the other clients' requests are still in flight
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, client));
    if (!signalled) child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);

    const lines = stdout.split('\n');
    expect(lines.pop()).toBe(''); // the output ends with a whole line
    const requestLines = lines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'request');
    expect(answered).toBeGreaterThanOrEqual(SIGTERM_AFTER);
    // Each request the gateway answered is logged: none of the buffered lines is lost at exit.
    expect(requestLines.length).toBeGreaterThanOrEqual(answered);
    expect(requestLines.length).toBe(upstream.requests.length);
  } finally {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    upstream.reset();
  }
}, 90_000);
