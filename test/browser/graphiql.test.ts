// GraphiQL in a real browser: headless Chromium (Debian's package, driven by playwright-core)
// opens /graphql on the sandbox, runs the prefilled mutation with the prefilled header, and
// finds the success payload on the page. Screenshot: test/artifacts/graphiql.png.
//
// The machine has no internet, and Yoga's GraphiQL page loads its bundle from a CDN, so the
// test answers those requests from the same bundle installed as @graphql-yoga/graphiql.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Route } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { SANDBOX_TOKENS, startSandboxUpstream } from '../../src/sandbox/index.js';
import type { SandboxUpstream } from '../../src/sandbox/index.js';
import { startGateway } from '../support/gateway.js';
import type { TestGateway } from '../support/gateway.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = new URL('../artifacts/', import.meta.url);
const GRAPHIQL_DIST = join(dirname(createRequire(import.meta.url).resolve('@graphql-yoga/graphiql/package.json')), 'dist');
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`SKIPPED the GraphiQL browser test: ${CHROMIUM} is missing (install it: apt-get install -y chromium).`);
}

let sandbox: SandboxUpstream;
let gw: TestGateway;
let browser: Browser | undefined;
beforeAll(async () => {
  if (!hasChromium) return;
  sandbox = await startSandboxUpstream();
  gw = await startGateway({ upstreamUrl: sandbox.url, exampleToken: SANDBOX_TOKENS.manager });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
});
afterAll(async () => {
  await browser?.close();
  await gw?.close();
  await sandbox?.close();
});

/** The gateway's own requests go through; the CDN's files come from node_modules; anything else is refused. */
async function offline(route: Route): Promise<void> {
  const url = new URL(route.request().url());
  if (url.origin === gw.url.origin) return route.continue();
  const file = url.hostname === 'unpkg.com' && /\/@graphql-yoga\/graphiql@[^/]+\/dist\/(.+)$/.exec(url.pathname)?.[1];
  if (!file || file.split('/').includes('..')) return route.abort();
  const type = file.endsWith('.css') ? 'text/css' : 'application/javascript';
  return route.fulfill({ status: 200, contentType: type, body: readFileSync(join(GRAPHIQL_DIST, file)) });
}

test.skipIf(!hasChromium)('GraphiQL runs the prefilled mutation with the prefilled header and shows the success', async () => {
  const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
  await page.route('**/*', offline);
  await page.goto(gw.url.href);
  // Monaco renders spaces as no-break spaces.
  const textOf = async (selector: string) => (await page.locator(selector).innerText()).replaceAll('\u00a0', ' ');

  // The example mutation is in the editor, not GraphiQL's welcome text.
  await expect.poll(() => textOf('.graphiql-query-editor'), { timeout: 15_000 }).toContain('mutation AddChallengeHistory');
  await page.locator('.graphiql-execute-button').click();
  await expect.poll(() => textOf('.result-window'), { timeout: 15_000 }).toContain('AddChallengeHistorySuccess');
  const text = await textOf('.result-window');
  expect(text).toContain('Ada Lovelace');
  expect(text).toContain('"points": 100');

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: new URL('graphiql.png', ARTIFACTS).pathname, fullPage: true });
  // The sandbox recorded it: the prefilled header carried the manager token.
  expect(gw.logs.some((line) => line.includes('"resultType":"AddChallengeHistorySuccess"'))).toBe(true);
});
