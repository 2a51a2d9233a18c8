// Only /graphql, /health, /ready and /metrics are served, exactly as written: a dot segment, a
// doubled or trailing slash is 404 (not, say, /metrics through /graphql/../metrics). A request
// with no operation is 400, on both paths. In sandbox mode only loopback Host names are answered.

import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startGateway, useGatewayOn } from '../support/gateway.js';
import type { TestGateway } from '../support/gateway.js';
import { startScriptableUpstream } from '../support/scriptable-upstream.js';

const { upstream, gw } = useGatewayOn(startScriptableUpstream);

/** A request sent with its target and Host exactly as given (fetch would normalise both). */
function rawGet(url: URL, path: string, host = url.host): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: 'GET', headers: { host, accept: 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('exact paths', () => {
  test.each(['/graphql/../metrics', '//metrics', '/metrics/', '/graphql/', '/Graphql', '/%2e%2e/metrics', '/graphiql/../metrics', '/', '/favicon.ico'])(
    '%s: 404 NOT_FOUND',
    async (path) => {
      const res = await rawGet(gw.url, path);
      expect(res.status).toBe(404);
      expect(JSON.parse(res.body).errors[0].extensions.code).toBe('NOT_FOUND');
      expect(res.body).not.toContain('process_cpu');
    },
  );

  test.each(['/health', '/ready', '/metrics'])('%s is served', async (path) => {
    expect((await rawGet(gw.url, path)).status).toBe(200);
  });

  test('/graphql and its query string reach Yoga', async () => {
    const res = await rawGet(gw.url, '/graphql?query=%7B__typename%7D');
    // Yoga's answer (CSRF prevention asks this GET for a preflight header), not the path guard's.
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).errors[0].extensions.code).toBe('CSRF_PREVENTED');
  });
});

describe('a request without an operation', () => {
  test.each([
    ['on the fast lane entry', '/graphql'],
    ["on Yoga's path", '/graphql?x'],
  ])('is 400 BAD_REQUEST %s, not 200 PersistedQueryKeyNotFound', async (_label, path) => {
    for (const body of ['{}', '{"variables":{}}', '{"extensions":{}}']) {
      const res = await fetch(new URL(path, gw.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status).toBe(400);
      expect((await res.json()).errors).toEqual([{ message: 'Must provide query string.', extensions: { code: 'BAD_REQUEST' } }]);
    }
    expect(upstream.requests).toHaveLength(0);
  });

  test('a persisted-operation hash alone still asks for the document (APQ)', async () => {
    const extensions = { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } };
    const res = await gw.graphql({ extensions });
    expect(res.body.errors[0].message).toBe('PersistedQueryNotFound');
  });
});

describe('loopbackHostsOnly (the sandbox)', () => {
  let sandbox: TestGateway;
  beforeAll(async () => {
    sandbox = await startGateway({ upstreamUrl: upstream.url, options: { loopbackHostsOnly: true } });
  });
  afterAll(() => sandbox.close());

  test.each(['localhost', 'LOCALHOST:4000', '127.0.0.1', `127.0.0.1:4000`, '127.255.0.9:80', '[::1]', '[::1]:4000'])('Host %s is answered', async (host) => {
    expect((await rawGet(sandbox.url, '/health', host)).status).toBe(200);
  });

  test.each(['evil.example', 'evil.example:4000', 'localhost.evil.example', '127.0.0.1.nip.io', '128.0.0.1', '[::2]', '0.0.0.0'])(
    'Host %s is refused (DNS rebinding): 403 HOST_NOT_ALLOWED',
    async (host) => {
      const res = await rawGet(sandbox.url, '/graphql?query=%7B__typename%7D', host);
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body).errors[0].extensions.code).toBe('HOST_NOT_ALLOWED');
    },
  );

  test('without the option any Host is answered', async () => {
    expect((await rawGet(gw.url, '/health', 'evil.example')).status).toBe(200);
  });
});
