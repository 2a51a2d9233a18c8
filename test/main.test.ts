// `npm start`'s entry point as a real process: sandbox mode, GraphiQL, the refusals at start-up
// (configuration, a busy port, an upstream host name that does not resolve), one line each.

import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { spawnMain } from './support/gateway-process.js';
import { startScriptableUpstream } from './support/scriptable-upstream.js';

const ROOT = new URL('..', import.meta.url).pathname;
const ENTRY = join(ROOT, 'src/main.ts');

const startMain = (env: Record<string, string>) => spawnMain(env);

async function waitFor(check: () => RegExpMatchArray | null, timeoutMs = 15_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = check();
    if (match) return match;
    if (Date.now() > deadline) throw new Error('timed out waiting for output');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts the process, expects exit 1, and returns what it said on stderr (stdout holds JSON log lines only). */
async function refusal(env: Record<string, string>): Promise<string[]> {
  const main = startMain(env);
  const [code] = await once(main.child, 'exit');
  expect(code).toBe(1);
  for (const line of main.stdout().split('\n').filter((line) => line !== '')) expect(() => JSON.parse(line)).not.toThrow();
  return main.stderr().split('\n').filter((line) => line !== '');
}

test('without UPSTREAM_URL it serves the sandbox, says so on stderr, and GraphiQL opens with the example and the token', async () => {
  const main = startMain({ NODE_ENV: 'development' });
  try {
    const [, url] = await waitFor(() => /GraphiQL:\s+(\S+)/.exec(main.stderr()));
    expect(main.stderr()).toContain('SANDBOX MODE');
    expect(main.stderr()).toContain('Authorization: Bearer sandbox-manager-token');

    const page = await fetch(url!, { headers: { accept: 'text/html' } });
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(html).toContain('mutation AddChallengeHistory');
    expect(html).toContain('Bearer sandbox-manager-token');

    const health = await fetch(new URL('/health', url));
    expect(health.status).toBe(200);
  } finally {
    main.child.kill('SIGTERM');
  }
  const [code] = await once(main.child, 'exit');
  expect(code).toBe(0);
  expect(main.stderr()).toContain('SIGTERM received, shutting down');
  // stdout carries the JSON log lines only (the page's request line among them).
  const lines = main.stdout().split('\n').filter((line) => line !== '');
  const logged = lines.map((line) => JSON.parse(line) as { path?: string; status?: number });
  expect(logged).toContainEqual(expect.objectContaining({ path: '/graphql', status: 200 }));
});

test('NODE_ENV=production without UPSTREAM_URL refuses to start, with a clear message', async () => {
  const lines = await refusal({ NODE_ENV: 'production' });
  expect(lines.join('\n')).toContain('UPSTREAM_URL is required when NODE_ENV=production');
  expect(lines.join('\n')).not.toContain('SANDBOX MODE');
});

test('bad configuration is refused with one line per problem', async () => {
  const lines = await refusal({ NODE_ENV: 'staging', UPSTREAM_URL: 'ftp://x', PORT: 'eighty', UPSTREAM_TIMEOUT_MS: '-1' });
  const problems = lines.filter((line) => line.startsWith('  - '));
  expect(problems).toHaveLength(4);
  expect(lines).toHaveLength(5); // the heading and the four problems, no stack trace
  expect(problems.join('\n')).toMatch(/NODE_ENV must be one of development, production, test, got "staging"/);
  expect(problems.join('\n')).toMatch(/UPSTREAM_URL must use http or https/);
  expect(problems.join('\n')).toMatch(/PORT must be a whole number/);
  expect(problems.join('\n')).toMatch(/UPSTREAM_TIMEOUT_MS must be a whole number/);
});

test('a port already in use is refused with one line', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const { port } = taken.address() as AddressInfo;
  try {
    const lines = await refusal({ NODE_ENV: 'development', PORT: String(port) });
    expect(lines).toEqual([`Cannot listen on 127.0.0.1:${port}: the port is already in use; stop the other process or set another PORT (EADDRINUSE).`]);
  } finally {
    taken.close();
  }
});

test('an UPSTREAM_URL host name that does not resolve is refused with one line', async () => {
  // .invalid never resolves (RFC 2606); without a DNS server the lookup fails as well.
  const lines = await refusal({ NODE_ENV: 'production', UPSTREAM_URL: 'https://upstream.invalid/api/v2' });
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^UPSTREAM_URL host "upstream\.invalid" cannot be resolved \((ENOTFOUND|EAI_AGAIN|no answer in 5 s)\): check the name and this machine's DNS\.$/);
});

/** A checkout of its own with scripts/ensure-build.mjs (what `npm ci` and `npm start` run) and a one-line src/main.ts. */
function checkout({ withTypeScript }: { withTypeScript: boolean }) {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-build-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'scripts'));
  mkdirSync(join(dir, 'src'));
  for (const file of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/ensure-build.mjs', 'scripts/bundle.mjs']) copyFileSync(join(ROOT, file), join(dir, file));
  if (withTypeScript) symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const writeMain = (text: string, mtime: Date) => {
    writeFileSync(join(dir, 'src/main.ts'), `console.log('${text}');\n`);
    utimesSync(join(dir, 'src/main.ts'), mtime, mtime);
  };
  writeMain('v1', new Date(Date.now() - 60_000));
  const run = (args: string[] = []) => {
    const result = spawnSync(process.execPath, [join(dir, 'scripts/ensure-build.mjs'), ...args], { encoding: 'utf8' });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr.split('\n').filter((line) => line !== '') };
  };
  const start = () => spawnSync(process.execPath, [join(dir, 'dist/gateway.mjs')], { encoding: 'utf8' }).stdout.trim();
  return { writeMain, run, start };
}

test('a missing build that cannot be made (no TypeScript installed) is refused with one line; npm ci only says it skipped', () => {
  const repo = checkout({ withTypeScript: false });
  const started = repo.run();
  expect(started.code).toBe(1);
  expect(started.stderr).toEqual([
    'Cannot start: dist/ has no build yet, and TypeScript (a dev dependency) is not installed to build it; run `npm run build` where it is.',
  ]);
  const installed = repo.run(['--at-install']);
  expect(installed.code).toBe(0);
  expect(installed.stderr).toEqual(['Not building dist/: TypeScript (a dev dependency) is not installed here; run `npm run build` where it is.']);
});

test('the build runs when dist/ is missing or older than a source, and not otherwise', () => {
  const repo = checkout({ withTypeScript: true });
  const first = repo.run(['--at-install']);
  expect(first).toMatchObject({ code: 0, stdout: '', stderr: ['Building dist/ (dist/ has no build yet)...'] });
  expect(repo.start()).toBe('v1');

  expect(repo.run()).toMatchObject({ code: 0, stdout: '', stderr: [] });

  repo.writeMain('v2', new Date(Date.now() + 60_000));
  expect(repo.run()).toMatchObject({ code: 0, stderr: ['Building dist/ (src/main.ts changed since the last build)...'] });
  expect(repo.start()).toBe('v2');
}, 90_000); // two real tsc runs: slow on a loaded two-core machine

test('the bundle npm start runs (dist/gateway.mjs) serves both paths and GraphiQL from its external assets', async () => {
  // What CI's `npm ci` built; rebuilt here first when a source changed since.
  const built = spawnSync(process.execPath, [join(ROOT, 'scripts/ensure-build.mjs')], { encoding: 'utf8' });
  expect(built.status, built.stderr).toBe(0);
  const upstream = await startScriptableUpstream();
  onTestFinished(() => upstream.close());
  const bundle = spawnMain({ NODE_ENV: 'production', UPSTREAM_URL: upstream.url.href, GRAPHIQL: 'true' }, join(ROOT, 'dist/gateway.mjs'));
  const { child } = bundle;
  try {
    const [, url] = await waitFor(() => /listening on (http:\/\/\S+)/.exec(bundle.stderr()));
    const graphql = new URL(url!);
    const award = () =>
      fetch(graphql, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer bundle-token' },
        body: JSON.stringify({
          query: 'mutation ($input: AddChallengeHistoryInput!) { addChallengeHistory(ambassadorId: "7", input: $input) { __typename ... on AddChallengeHistorySuccess { challengeHistory { id points } } } }',
          variables: { input: { points: 42, score: 12.5, message: 'well done', challengeId: '3' } },
        }),
      }).then((response) => response.json() as Promise<unknown>);
    const expected = { data: { addChallengeHistory: { __typename: 'AddChallengeHistorySuccess', challengeHistory: { id: '42', points: 42 } } } };
    // The first is Yoga's (it admits the document), the second the fast lane's.
    const first = await award();
    expect(first, JSON.stringify(first)).toEqual(expected);
    expect(await award()).toEqual(expected);
    expect(upstream.requests.map((r) => [r.method, r.url, r.headers.authorization, r.json])).toEqual(
      Array(2).fill(['POST', '/api/v2/manager/ambassadors/7/challenge-histories', 'Bearer bundle-token', { points: 42, score: 12.5, message: 'well done', challenge_id: 3 }]),
    );
    const metrics = await (await fetch(new URL('/metrics', graphql))).text();
    expect(metrics).toMatch(/^gateway_fast_lane_requests_total 1$/m);

    const page = await (await fetch(graphql, { headers: { accept: 'text/html' } })).text();
    const script = /src="(\/graphiql\/[^"]+\/graphiql\.js)"/.exec(page)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(new URL(script!, graphql));
    expect(asset.status).toBe(200);
    expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(1000);
  } finally {
    child.kill('SIGTERM');
  }
  const [code] = await once(child, 'exit');
  expect(code).toBe(0);
  const paths = bundle.stdout().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { msg: string; fastLane?: boolean });
  expect(paths.find((line) => line.msg === 'request paths')).toMatchObject({ fastLane: true });
}, 120_000); // a stale dist/ is rebuilt first (tsc and the bundle)
