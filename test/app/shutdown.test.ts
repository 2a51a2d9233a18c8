// SIGTERM to the real process: in-flight mutations finish and reach their clients, no new
// connection is accepted, the process exits 0. /ready and /health, in-process.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { postGraphQL, startGateway } from '../support/gateway.js';
import { challengeHistoryBody, startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream } from '../support/scriptable-upstream.js';
import { ADD, VALID_INPUT, eventually, gate } from '../support/operations.js';

const ENTRY = new URL('../../src/main.ts', import.meta.url).pathname;

let upstream: ScriptableUpstream;
beforeAll(async () => {
  upstream = await startScriptableUpstream();
});
afterAll(() => upstream.close());

type Launcher = 'node' | 'npm start';

/**
 * The gateway as its own process: `node` runs the entry point directly (through tsx, as
 * test/main.test.ts does); `npm start` builds it and runs it under npm, which forwards signals.
 */
function startMain(env: Record<string, string>, launcher: Launcher = 'node') {
  const [command, args] = launcher === 'node' ? [process.execPath, ['--import', 'tsx', ENTRY]] : ['npm', ['start', '--silent']];
  const child = spawn(command, args, {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so a failed test can stop npm and its child together
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  /** Stops whatever is left of this launch (npm and the node it started), if anything is. */
  const kill = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  return { child, output: () => output, kill };
}

/** Whether the port refuses connections within a few seconds. */
async function refusesConnections(url: URL): Promise<boolean> {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    if (!(await canConnect(url))) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

function canConnect(url: URL): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

test.each<Launcher>(['node', 'npm start'])('SIGTERM to %s while a slow mutation is in flight: the client gets its success, then exit 0', async (launcher) => {
  const answer = gate(); // the upstream answers only once the process is draining
  upstream.respondWith(async () => {
    await answer.opened;
    return { status: 201, body: challengeHistoryBody({ id: 777 }) };
  });
  const main = startMain({ UPSTREAM_URL: upstream.url.href, SHUTDOWN_DRAIN_MS: '10000' }, launcher);
  try {
    // npm start builds first: on a loaded two-core machine that alone can take 30 s and more.
    await eventually(() => /listening on (\S+)/.test(main.output()), 75_000);
    const url = new URL(/listening on (\S+)/.exec(main.output())![1]!);

    const inFlight = postGraphQL(url, { query: ADD, variables: { ambassadorId: '7', input: VALID_INPUT } });
    await eventually(() => upstream.requests.length === 1); // the POST is at the upstream, waiting
    main.child.kill('SIGTERM');
    await eventually(() => main.output().includes('SIGTERM received'));

    // No new connections while draining (polled: the line is printed just before the listener closes).
    expect(await refusesConnections(url)).toBe(true);
    answer.open();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { addChallengeHistory: { __typename: 'AddChallengeHistorySuccess', challengeHistory: { id: '777' } } } });
    const [code] = await once(main.child, 'exit');
    expect(code).toBe(0);
  } finally {
    main.kill();
    upstream.reset();
  }
}, 90_000); // npm start builds first

test('SHUTDOWN_DRAIN_MS bounds the wait: a call that outlasts it is cut and the process still exits 0', async () => {
  upstream.respondWith({ delayMs: 10_000, body: challengeHistoryBody() });
  const main = startMain({ UPSTREAM_URL: upstream.url.href, SHUTDOWN_DRAIN_MS: '300', UPSTREAM_TIMEOUT_MS: '20000' });
  try {
    await eventually(() => /listening on (\S+)/.test(main.output()), 15_000);
    const url = new URL(/listening on (\S+)/.exec(main.output())![1]!);
    const inFlight = postGraphQL(url, { query: ADD, variables: { ambassadorId: '7', input: VALID_INPUT } }).catch((error: Error) => error);
    await eventually(() => upstream.requests.length === 1);
    main.child.kill('SIGTERM');
    const started = performance.now();
    const [code] = await once(main.child, 'exit');
    expect(code).toBe(0);
    expect(performance.now() - started).toBeLessThan(5_000); // not the 10 s the upstream would take
    expect(await inFlight).toBeInstanceOf(Error); // the connection was closed: the client knows it got no answer
  } finally {
    main.kill();
    upstream.reset();
  }
});

test('/ready is 200 while serving and 503 while draining; /health never calls the upstream', async () => {
  const answer = gate();
  upstream.respondWith(async () => {
    await answer.opened;
    return { status: 201, body: challengeHistoryBody() };
  });
  const gw = await startGateway({ upstreamUrl: upstream.url });
  const ready = async () => (await gw.gateway.yoga.fetch(new URL('/ready', gw.url))).status; // in-process: no new connection is accepted while draining
  try {
    expect((await fetch(new URL('/ready', gw.url))).status).toBe(200);
    expect((await fetch(new URL('/health', gw.url))).status).toBe(200);
    expect(upstream.requests).toHaveLength(0);

    const inFlight = gw.graphql({ query: ADD, variables: { ambassadorId: '7', input: VALID_INPUT } });
    await eventually(() => upstream.requests.length === 1);
    const closing = gw.close();
    expect(gw.gateway.lifecycle.isDraining).toBe(true);
    expect(await ready()).toBe(503);
    answer.open();
    expect((await inFlight).body.data.addChallengeHistory.__typename).toBe('AddChallengeHistorySuccess');
    await closing;
  } finally {
    upstream.reset();
  }
});
