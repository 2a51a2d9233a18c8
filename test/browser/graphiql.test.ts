// GraphiQL in a real browser, offline: headless Chromium (Debian's package, driven by
// playwright-core) opens /graphql on the sandbox with every request to a host other than
// loopback blocked (not answered). The page must come entirely from the gateway, run the
// prefilled mutation with the prefilled header, then each typed error after editing the ids,
// with no console error (CSP violations are console errors) and no blocked request.
// Screenshots: test/artifacts/graphiql*.png.

import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { GRAPHIQL_CONTENT_SECURITY_POLICY } from '../../src/graphiql/plugin.js';
import { EXAMPLE_IDEMPOTENCY_KEY } from '../../src/graphiql/start-script.js';
import { SANDBOX_TOKENS, startSandboxUpstream } from '../../src/sandbox/index.js';
import type { SandboxUpstream } from '../../src/sandbox/index.js';
import { EXAMPLE_MUTATION } from '../../src/graphiql/example.js';
import { startGateway } from '../support/gateway.js';
import type { TestGateway } from '../support/gateway.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = new URL('../artifacts/', import.meta.url);
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
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

/** A browser context where only loopback answers; everything else is aborted and recorded. */
async function offlineContext(viewport = { width: 1400, height: 900 }): Promise<{ context: BrowserContext; requested: string[]; blocked: string[] }> {
  const context = await browser!.newContext({ viewport });
  const requested: string[] = [];
  const blocked: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    requested.push(url);
    if (LOOPBACK.has(new URL(url).hostname)) return route.continue();
    blocked.push(url);
    return route.abort('blockedbyclient');
  });
  return { context, requested, blocked };
}

/** Monaco renders spaces as no-break spaces. */
const textOf = async (page: Page, selector: string) => (await page.locator(selector).innerText()).replaceAll('\u00a0', ' ');

/** The text once the editor has finished drawing it (Monaco draws a result's lines over several frames): two reads 100 ms apart agree. */
async function settledTextOf(page: Page, selector: string): Promise<string> {
  let previous = await textOf(page, selector);
  for (let reads = 0; reads < 50; reads++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const current = await textOf(page, selector);
    if (current === previous) return current;
    previous = current;
  }
  return previous;
}

/** Replaces the operation in the query editor, runs it, and waits for `typename` in the result. */
async function runEdited(page: Page, operation: string, typename: string): Promise<string> {
  await page.locator('.graphiql-query-editor .monaco-editor').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(operation);
  // Monaco indents each typed line once more; GraphiQL's prettify puts the text back in shape.
  await page.locator('[aria-label^="Prettify query"]').click();
  await page.locator('.graphiql-query-editor .monaco-editor').click();
  await page.keyboard.press('Control+Home');
  await expect.poll(() => textOf(page, '.graphiql-query-editor')).toContain(operation.split('\n').find((line) => line.includes('999')));
  await page.locator('.graphiql-execute-button').click();
  await expect.poll(() => textOf(page, '.result-window'), { timeout: 15_000 }).toContain(typename);
  return textOf(page, '.result-window');
}

/** A page of an offline context, collecting console errors (CSP violations are console errors). */
async function offlinePage(viewport?: { width: number; height: number }) {
  const offline = await offlineContext(viewport);
  const page = await offline.context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  return { ...offline, page, consoleErrors };
}

test.skipIf(!hasChromium)('GraphiQL loads from the gateway alone and runs the example and its typed errors', async () => {
  const { context, requested, blocked, page, consoleErrors } = await offlinePage();
  const assets: { url: string; cache?: string; encoding?: string }[] = [];
  context.on('response', (response) => {
    const headers = response.headers();
    if (new URL(response.url()).pathname.startsWith('/graphiql/')) assets.push({ url: response.url(), cache: headers['cache-control'], encoding: headers['content-encoding'] });
  });
  const workers: string[] = [];
  page.on('worker', (worker) => workers.push(worker.url()));
  mkdirSync(ARTIFACTS, { recursive: true });
  const screenshot = (name: string) => page.screenshot({ path: new URL(name, ARTIFACTS).pathname, fullPage: true });

  const response = await page.goto(gw.url.href);
  expect(response?.status()).toBe(200);
  const headers = response!.headers();
  expect(headers['content-security-policy']).toBe(GRAPHIQL_CONTENT_SECURITY_POLICY);
  expect(headers['content-security-policy']).toContain("script-src 'self';");
  expect(headers['content-security-policy']).not.toContain('unsafe-eval');
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('no-referrer');

  // The example mutation is in the editor, not GraphiQL's welcome text; the sandbox token in the headers.
  await expect.poll(() => textOf(page, '.graphiql-query-editor'), { timeout: 15_000 }).toContain('mutation AddChallengeHistory');
  await page.locator('.graphiql-execute-button').click();
  await expect.poll(() => textOf(page, '.result-window'), { timeout: 15_000 }).toContain('AddChallengeHistorySuccess');
  const success = await textOf(page, '.result-window');
  expect(success).toContain('Ada Lovelace');
  expect(success).toContain('"points": 100');
  await screenshot('graphiql.png');
  // The sandbox recorded it: the prefilled header carried the manager token.
  expect(gw.logs.some((line) => line.includes('"resultType":"AddChallengeHistorySuccess"'))).toBe(true);

  const edited = () => EXAMPLE_MUTATION.replace(EXAMPLE_IDEMPOTENCY_KEY, randomUUID());
  const notFound = await runEdited(page, edited().replace('ambassadorId: "1"', 'ambassadorId: "999"'), 'AmbassadorNotFoundError');
  expect(notFound).toContain('"ambassadorId": "999"');
  await screenshot('graphiql-ambassador-not-found.png');

  const invalid = await runEdited(page, edited().replace('challengeId: "1"', 'challengeId: "999"'), 'ValidationError');
  expect(invalid).toContain('fieldErrors');
  await screenshot('graphiql-validation-error.png');

  // Monaco ran its language workers as the gateway's own scripts (no blob:, no main-thread fallback).
  expect(workers.length).toBeGreaterThanOrEqual(2);
  for (const url of workers) expect(url).toMatch(new RegExp(`^${gw.url.origin}/graphiql/[0-9a-f]{16}/\\w+\\.worker\\.js$`));
  // Every file came under its content-hash path, cacheable for good, and gzipped.
  expect(assets.length).toBeGreaterThanOrEqual(5);
  for (const asset of assets) expect(asset).toMatchObject({ cache: 'public, max-age=31536000, immutable', encoding: 'gzip' });
  expect(consoleErrors).toEqual([]);
  expect(blocked).toEqual([]);
  expect(requested.every((url) => new URL(url).origin === gw.url.origin)).toBe(true);
  await context.close();
});

/** The comment lines of the query editor wider than its visible width (their text and overflow in px). */
function overflowingComments(page: Page) {
  return page.evaluate(() => {
    const editor = document.querySelector('.graphiql-query-editor .monaco-editor .overflow-guard')!.getBoundingClientRect();
    const scrollbar = document.querySelector('.graphiql-query-editor .monaco-editor .scrollbar.vertical')?.getBoundingClientRect().width ?? 0;
    const lines = [...document.querySelectorAll('.graphiql-query-editor .view-line')].map((line) => {
      const spans = [...line.querySelectorAll('span span')];
      const right = Math.max(...spans.map((span) => span.getBoundingClientRect().right));
      return { text: (line as HTMLElement).innerText.replaceAll('\u00a0', ' '), overflow: right - (editor.right - scrollbar) };
    });
    const comments = lines.filter((line) => line.text.trim().startsWith('#'));
    return { comments: comments.length, overflowing: comments.filter((line) => line.overflow > 0) };
  });
}

test.skipIf(!hasChromium)('at 1280 px: the example fits, and carries a key fresh per page load, so Run twice awards once and then answers replayed: true', async () => {
  const { context, page, consoleErrors, blocked } = await offlinePage({ width: 1280, height: 800 });
  try {
    const keyIn = async () => /idempotencyKey: "([^"]*)"/.exec(await textOf(page, '.graphiql-query-editor'))?.[1];
    await page.goto(gw.url.href);
    await expect.poll(() => textOf(page, '.graphiql-query-editor'), { timeout: 15_000 }).toContain('mutation AddChallengeHistory');
    const fits = await overflowingComments(page);
    expect(fits.comments).toBeGreaterThanOrEqual(3);
    expect(fits.overflowing).toEqual([]);
    const key = await keyIn();
    expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    const recorded = sandbox.histories.length;
    await page.locator('.graphiql-execute-button').click();
    await expect.poll(() => textOf(page, '.result-window'), { timeout: 15_000 }).toContain('"replayed": false');
    const first = await settledTextOf(page, '.result-window');
    await page.locator('.graphiql-execute-button').click();
    await expect.poll(() => textOf(page, '.result-window'), { timeout: 15_000 }).toContain('"replayed": true');
    const again = await settledTextOf(page, '.result-window');
    expect(again.replace('"replayed": true', '"replayed": false')).toBe(first);
    expect(sandbox.histories.length - recorded).toBe(1);
    await page.screenshot({ path: new URL('graphiql-1280-replayed.png', ARTIFACTS).pathname });

    // Another page load is another award: another key. In a new browser profile, in the editor:
    const fresh = await offlinePage({ width: 1280, height: 800 });
    await fresh.page.goto(gw.url.href);
    await expect.poll(() => textOf(fresh.page, '.graphiql-query-editor'), { timeout: 15_000 }).toContain('mutation AddChallengeHistory');
    const otherKey = /idempotencyKey: "([^"]*)"/.exec(await textOf(fresh.page, '.graphiql-query-editor'))?.[1];
    await fresh.context.close();
    // And on a reload, in the unedited example GraphiQL restores from its storage.
    const storedKey = () =>
      page.evaluate(() => /idempotencyKey: \\"([^"\\]*)/.exec(localStorage.getItem('graphiql:tabState') ?? '')?.[1]);
    expect(await storedKey()).toBe(key);
    await page.reload();
    await expect.poll(storedKey, { timeout: 15_000 }).not.toBe(key);
    expect(await storedKey()).toMatch(/^[0-9a-f-]{36}$/);
    expect(await storedKey()).not.toBe(otherKey);
    expect(otherKey).not.toBe(key);
    expect(consoleErrors).toEqual([]);
    expect(blocked).toEqual([]);
  } finally {
    await context.close();
  }
}, 60_000);

test.skipIf(!hasChromium)('production with GRAPHIQL=true: the same offline page, opening with neither the example nor a token', async () => {
  // Introspection on as well, so GraphiQL loads the schema (without it the result pane says introspection is disabled).
  const production = await startGateway({
    upstreamUrl: sandbox.url,
    env: { NODE_ENV: 'production', GRAPHIQL: 'true', GRAPHQL_INTROSPECTION: 'true' },
    exampleToken: SANDBOX_TOKENS.manager,
  });
  const { context, blocked, page, consoleErrors } = await offlinePage();
  try {
    const response = await page.goto(production.url.href);
    expect(response?.headers()['content-security-policy']).toBe(GRAPHIQL_CONTENT_SECURITY_POLICY);
    await expect.poll(() => textOf(page, '.graphiql-query-editor'), { timeout: 15_000 }).toContain('Welcome to Challenge gateway');
    expect(await textOf(page, '.graphiql-query-editor')).not.toContain('mutation');
    await page.getByText('Headers', { exact: true }).click();
    await expect.poll(() => textOf(page, '.graphiql-editor-tool')).toContain('"Authorization": "Bearer <your token>"');
    expect(await page.content()).not.toContain(SANDBOX_TOKENS.manager);
    await page.screenshot({ path: new URL('graphiql-production.png', ARTIFACTS).pathname, fullPage: true });
    expect(consoleErrors).toEqual([]);
    expect(blocked).toEqual([]);
  } finally {
    await context.close();
    await production.close();
  }
});
