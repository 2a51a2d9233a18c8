// `npm start`'s entry point as a real process: sandbox mode, GraphiQL, production refusal.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { expect, test } from 'vitest';

const ENTRY = new URL('../src/main.ts', import.meta.url).pathname;

function startMain(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

async function waitFor(check: () => RegExpMatchArray | null, timeoutMs = 15_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = check();
    if (match) return match;
    if (Date.now() > deadline) throw new Error('timed out waiting for output');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('without UPSTREAM_URL it serves the sandbox, says so, and GraphiQL opens with the example and the token', async () => {
  const main = startMain({ NODE_ENV: 'development' });
  try {
    const [, url] = await waitFor(() => /GraphiQL:\s+(\S+)/.exec(main.output()));
    expect(main.output()).toContain('SANDBOX MODE');
    expect(main.output()).toContain('Authorization: Bearer sandbox-manager-token');

    const page = await fetch(url!, { headers: { accept: 'text/html' } });
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('mutation AddChallengeHistory');
    expect(html).toContain('Bearer sandbox-manager-token');

    const health = await fetch(new URL('/health', url));
    expect(health.status).toBe(200);
  } finally {
    main.child.kill('SIGTERM');
  }
  const [code] = await once(main.child, 'exit');
  expect(code).toBe(0);
});

test('NODE_ENV=production without UPSTREAM_URL refuses to start, with a clear message', async () => {
  const main = startMain({ NODE_ENV: 'production' });
  const [code] = await once(main.child, 'exit');
  expect(code).toBe(1);
  expect(main.output()).toContain('UPSTREAM_URL is required when NODE_ENV=production');
  expect(main.output()).not.toContain('SANDBOX MODE');
});

test('bad configuration is refused with one line per problem', async () => {
  const main = startMain({ NODE_ENV: 'staging', UPSTREAM_URL: 'ftp://x', PORT: 'eighty', UPSTREAM_TIMEOUT_MS: '-1' });
  const [code] = await once(main.child, 'exit');
  expect(code).toBe(1);
  const lines = main.output().split('\n').filter((line) => line.startsWith('  - '));
  expect(lines).toHaveLength(4);
  expect(main.output()).toMatch(/NODE_ENV must be one of development, production, test, got "staging"/);
  expect(main.output()).toMatch(/UPSTREAM_URL must use http or https/);
  expect(main.output()).toMatch(/PORT must be a whole number/);
  expect(main.output()).toMatch(/UPSTREAM_TIMEOUT_MS must be a whole number/);
});
