// The self-hosted GraphiQL over real sockets: which NODE_ENV/GRAPHIQL serve it and with what
// prefilled, the headers of the page and of each file, content-hash paths, and a page that a
// hostile token cannot break out of. (The browser run, test/browser/graphiql.test.ts, asserts
// the header values literally and proves the page works under them.)

import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GRAPHIQL_SECURITY_HEADERS } from '../../src/graphiql/plugin.js';
import { startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream } from '../support/scriptable-upstream.js';
import { startGateway } from '../support/gateway.js';
import type { TestGateway } from '../support/gateway.js';

const HOSTILE_TOKEN = 'tok</script><script>alert(1)</script>';

let upstream: ScriptableUpstream;
const gateways: TestGateway[] = [];
beforeAll(async () => {
  upstream = await startScriptableUpstream();
});
afterAll(async () => {
  await Promise.all(gateways.map((gw) => gw.close()));
  await upstream.close();
});

async function gatewayWith(env: Record<string, string>, exampleToken?: string): Promise<TestGateway> {
  const gw = await startGateway({ upstreamUrl: upstream.url, env, exampleToken });
  gateways.push(gw);
  return gw;
}

const openPage = (gw: TestGateway) => fetch(gw.url, { headers: { accept: 'text/html' } });

/** The settings the page hands to GraphiQL (its JSON data block). */
function configOf(html: string): { workers: Record<string, string>; options: Record<string, unknown> } {
  const json = /<script type="application\/json" id="graphiql-config">(.*?)<\/script>/s.exec(html)?.[1];
  expect(json).toBeDefined();
  return JSON.parse(json!);
}

/** Every file the page links to, its workers included. */
function filesOf(html: string): string[] {
  const linked = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
  return [...linked, ...Object.values(configOf(html).workers)];
}

describe('production', () => {
  test('no GraphiQL unless GRAPHIQL=true: the page and its files are not served', async () => {
    const gw = await gatewayWith({ NODE_ENV: 'production' }, 'sandbox-manager-token');
    const page = await openPage(gw);
    expect(page.headers.get('content-type') ?? '').not.toContain('text/html');
    expect(await page.text()).not.toContain('<html');
    expect(page.headers.get('content-security-policy')).toBeNull();
    const file = await fetch(new URL('/graphiql/0123456789abcdef/graphiql.js', gw.url));
    expect(file.status).toBe(404);
    expect(file.headers.get('content-security-policy')).toBeNull();
  });

  test('GRAPHIQL=true serves the same page, opening with neither a token nor a mutation to run', async () => {
    const gw = await gatewayWith({ NODE_ENV: 'production', GRAPHIQL: 'true' }, 'sandbox-manager-token');
    const page = await openPage(gw);
    expect(page.status).toBe(200);
    const html = await page.text();
    const { options } = configOf(html);
    expect(options.headers).toBe(JSON.stringify({ Authorization: 'Bearer <your token>' }, null, 2));
    expect(options.defaultQuery).toBeUndefined();
    expect(html).not.toContain('sandbox-manager-token');
    expect(html).not.toContain('mutation');
  });
});

describe('development', () => {
  let gw: TestGateway;
  let html: string;
  let page: Response;
  beforeAll(async () => {
    gw = await gatewayWith({ NODE_ENV: 'development' }, HOSTILE_TOKEN);
    page = await openPage(gw);
    html = await page.text();
  });

  test('the page carries the security headers, is never cached, and runs nothing inline', () => {
    expect(page.status).toBe(200);
    expect(Object.fromEntries(page.headers)).toMatchObject({ ...GRAPHIQL_SECURITY_HEADERS, 'cache-control': 'no-store', 'content-type': 'text/html; charset=utf-8' });
    // Every <script> either loads a file of the gateway or is the (never executed) JSON data block.
    const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((match) => match[1]!.trim());
    expect(scripts).toHaveLength(3);
    for (const attributes of scripts) expect(attributes).toMatch(/^(src="\/graphiql\/[0-9a-f]{16}\/[\w.]+\.js" defer|type="application\/json" id="graphiql-config")$/);
  });

  test('it opens with the example mutation and the token, which cannot end the data block early', () => {
    const { options } = configOf(html);
    expect(options.defaultQuery).toContain('mutation AddChallengeHistory');
    expect(options.headers).toBe(JSON.stringify({ Authorization: `Bearer ${HOSTILE_TOKEN}` }, null, 2));
    expect(options.shouldPersistHeaders).toBe(false);
    expect(html).not.toContain('<script>alert');
  });

  test('each file is served under the hash of its content, cacheable for good, with the same headers', async () => {
    const files = filesOf(html);
    expect(files.map((path) => path.split('/').pop()).sort()).toEqual(
      ['editor.worker.js', 'favicon.ico', 'graphiql.css', 'graphiql.js', 'graphql.worker.js', 'json.worker.js', 'start.js'].sort(),
    );
    for (const path of files) {
      // gzip when the client takes it (fetch decodes it), the file as it is otherwise: the same bytes.
      for (const encoding of ['gzip', 'identity']) {
        const response = await fetch(new URL(path, gw.url), { headers: { 'accept-encoding': encoding } });
        expect(response.status).toBe(200);
        expect(Object.fromEntries(response.headers)).toMatchObject({
          ...GRAPHIQL_SECURITY_HEADERS,
          'cache-control': 'public, max-age=31536000, immutable',
          vary: 'accept-encoding',
        });
        expect(response.headers.get('content-encoding')).toBe(encoding === 'gzip' ? 'gzip' : null);
        expect(response.headers.get('content-type')).toMatch(path.endsWith('.css') ? /^text\/css/ : path.endsWith('.ico') ? /^image\// : /^text\/javascript/);
        const body = Buffer.from(await response.arrayBuffer());
        expect(path.split('/')[2]).toBe(createHash('sha256').update(body).digest('hex').slice(0, 16));
      }
    }
  });

  test('no file of the page names another host to load from', async () => {
    for (const path of filesOf(html).filter((file) => file.endsWith('.css') || file.endsWith('start.js'))) {
      const text = await (await fetch(new URL(path, gw.url))).text();
      expect(text).not.toMatch(/url\(\s*["']?(https?:)?\/\//);
      expect(text).not.toMatch(/@import/);
    }
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  test('an unknown file under /graphiql/ is a 404', async () => {
    const response = await fetch(new URL('/graphiql/0123456789abcdef/graphiql.js', gw.url));
    expect(response.status).toBe(404);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
