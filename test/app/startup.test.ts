// The start-up probe (src/app/startup.ts): a UPSTREAM_URL that is not the API cannot go unnoticed.
// The probe against the sandbox and a scripted upstream, then `src/main.ts` as a real process:
// production refuses to start with one line, development warns once, an unreachable upstream warns.

import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSandboxUpstream } from '../../src/sandbox/index.js';
import type { SandboxUpstream } from '../../src/sandbox/index.js';
import { PROBE_ROUTE, probeUpstream } from '../../src/app/startup.js';
import { spawnMain } from '../support/gateway-process.js';
import { startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream } from '../support/scriptable-upstream.js';


let sandbox: SandboxUpstream;
let upstream: ScriptableUpstream;
beforeAll(async () => {
  sandbox = await startSandboxUpstream();
  upstream = await startScriptableUpstream();
});
afterAll(async () => {
  await sandbox.close();
  await upstream.close();
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('probeUpstream', () => {
  test('the sandbox answers the probe as the API does: 401 JSON without a token', async () => {
    const answer = await fetch(`${sandbox.url.href}${PROBE_ROUTE}`);
    expect(answer.status).toBe(401);
    expect(await answer.json()).toEqual({ message: 'Unauthorized.' });
    expect(await probeUpstream(sandbox.url, 1000)).toEqual({ kind: 'api' });
  });

  test('the API host without /api/v2 answers 404: not the API, said in the line operators grep for', async () => {
    const wrong = new URL(sandbox.url.origin);
    expect(await probeUpstream(wrong, 1000)).toEqual({
      kind: 'not-api',
      line: `UPSTREAM_URL does not point at the API: GET ${sandbox.url.origin}${PROBE_ROUTE} answered 404`,
    });
  });

  test('a non-JSON answer (a web page, a redirect) is not the API; a 5xx or nothing listening is only doubtful', async () => {
    upstream.respondToProbe({ status: 200, body: '<html>welcome</html>', headers: { 'content-type': 'text/html' } });
    expect(await probeUpstream(upstream.url, 1000)).toMatchObject({ kind: 'not-api', line: expect.stringContaining('answered 200 with a non-JSON body') });
    upstream.respondToProbe({ status: 301, headers: { location: 'https://elsewhere.test/' } });
    expect(await probeUpstream(upstream.url, 1000)).toMatchObject({ kind: 'not-api', line: expect.stringContaining('answered 301') });
    upstream.respondToProbe({ status: 503, body: '<html>maintenance</html>' });
    expect(await probeUpstream(upstream.url, 1000)).toMatchObject({ kind: 'doubtful', line: expect.stringContaining('answered 503') });
    upstream.respondToProbe({ status: 401, body: { message: 'Unauthorized.' } });
    expect(await probeUpstream(upstream.url, 1000)).toEqual({ kind: 'api' });
    expect(upstream.probes.every((probe) => probe.headers.authorization === undefined)).toBe(true);
    expect(upstream.requests).toHaveLength(0);

    const nothing = new URL(`http://127.0.0.1:${await closedPort()}/api/v2`);
    expect(await probeUpstream(nothing, 1000)).toMatchObject({ kind: 'doubtful', line: expect.stringContaining('refused (ECONNREFUSED)') });
  });
});

const runMain = (env: Record<string, string>) => spawnMain(env);

async function untilListening(main: ReturnType<typeof runMain>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!/listening on/.test(main.stderr())) {
    if (main.child.exitCode !== null || Date.now() > deadline) throw new Error(`did not start:\n${main.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stop(main: ReturnType<typeof runMain>): Promise<void> {
  main.child.kill('SIGTERM');
  await once(main.child, 'exit');
}

const warnings = (stdout: string) =>
  stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { level: string; msg: string }).filter((line) => line.level === 'warn');

describe('npm start with a UPSTREAM_URL that is not the API', () => {
  test('production: exit 1 with one line, before listening', async () => {
    const url = `${sandbox.url.origin}`;
    const main = runMain({ NODE_ENV: 'production', UPSTREAM_URL: url });
    const [code] = await once(main.child, 'exit');
    expect(code).toBe(1);
    expect(main.stderr().trim()).toBe(`UPSTREAM_URL does not point at the API: GET ${url}${PROBE_ROUTE} answered 404`);
  }, 30_000);

  test('development: one warning, and it serves', async () => {
    const main = runMain({ NODE_ENV: 'development', UPSTREAM_URL: sandbox.url.origin });
    await untilListening(main);
    await stop(main);
    expect(warnings(main.stdout()).map((line) => line.msg)).toEqual([`UPSTREAM_URL does not point at the API: GET ${sandbox.url.origin}${PROBE_ROUTE} answered 404`]);
  }, 30_000);

  test('production with nothing listening: one warning with the cause, and it serves', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/api/v2`;
    const main = runMain({ NODE_ENV: 'production', UPSTREAM_URL: url });
    await untilListening(main);
    await stop(main);
    const lines = warnings(main.stdout());
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toContain('refused (ECONNREFUSED)');
  }, 30_000);

  test('production against the API: no warning', async () => {
    const main = runMain({ NODE_ENV: 'production', UPSTREAM_URL: sandbox.url.href });
    await untilListening(main);
    await stop(main);
    expect(warnings(main.stdout())).toEqual([]);
  }, 30_000);
});
