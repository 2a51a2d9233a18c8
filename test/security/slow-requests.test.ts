// Slow and hoarding clients, on raw sockets: a body that never completes is answered 408 and
// closed within about a second of REQUEST_TIMEOUT_MS (not after Node's 30 s check interval),
// slow headers likewise after HEADERS_TIMEOUT_MS; request bodies held at once are bounded by
// MAX_INFLIGHT_BODY_BYTES (beyond it 503 + Retry-After before the body is read), on the fast
// lane's entry and on Yoga's path alike; connections beyond MAX_CONNECTIONS are closed; and
// /health answers throughout.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startGateway } from '../support/gateway.js';
import type { TestGateway } from '../support/gateway.js';
import { heldMemory } from '../support/memory.js';
import { eventually } from '../support/operations.js';
import { codeOf, postHead, stall, statusOf } from '../support/raw-http.js';
import { startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream } from '../support/scriptable-upstream.js';

const MiB = 1024 * 1024;

let upstream: ScriptableUpstream;
beforeAll(async () => {
  upstream = await startScriptableUpstream();
});
afterAll(() => upstream.close());

describe('REQUEST_TIMEOUT_MS and HEADERS_TIMEOUT_MS', () => {
  let gw: TestGateway;
  const REQUEST_TIMEOUT_MS = 1500;
  const HEADERS_TIMEOUT_MS = 1000;
  beforeAll(async () => {
    gw = await startGateway({
      upstreamUrl: upstream.url,
      env: {
        REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      },
    });
  });
  afterAll(() => gw.close());

  test.each([
    ['the fast lane', '/graphql'],
    ["Yoga's path", '/graphql?x'],
  ])('a body that stalls on %s: 408 REQUEST_TIMEOUT and closed, within about a second of the bound', async (_path, path) => {
    const { closed } = stall(gw.url, postHead(path, 1000), 999);
    const { text, afterMs } = await closed;
    expect(statusOf(text)).toBe(408);
    expect(codeOf(text)).toBe('REQUEST_TIMEOUT');
    expect(text).toMatch(/\r\nconnection: close\r\n/i);
    // Measured against the bound itself: not before it, and not after Node's 30 s default check.
    expect(afterMs / REQUEST_TIMEOUT_MS).toBeGreaterThanOrEqual(0.95);
    expect(afterMs / REQUEST_TIMEOUT_MS).toBeLessThan(3);
    expect(upstream.requests).toHaveLength(0);
  });

  test('headers that stall: 408 after HEADERS_TIMEOUT_MS', async () => {
    const { closed } = stall(gw.url, 'POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-');
    const { text, afterMs } = await closed;
    expect(statusOf(text)).toBe(408);
    expect(afterMs / HEADERS_TIMEOUT_MS).toBeGreaterThanOrEqual(0.95);
    expect(afterMs / HEADERS_TIMEOUT_MS).toBeLessThan(REQUEST_TIMEOUT_MS / HEADERS_TIMEOUT_MS + 1);
  });
});

describe('MAX_INFLIGHT_BODY_BYTES', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({
      upstreamUrl: upstream.url,
      env: {
        MAX_INFLIGHT_BODY_BYTES: String(4 * MiB),
        REQUEST_TIMEOUT_MS: '60000',
      },
    });
  });
  afterAll(() => gw.close());

  test('1 MiB bodies that never complete: three are held (large bodies may hold three quarters of the bound), the rest get 503 + Retry-After before their body is read; small requests still run; memory stays bounded', async () => {
    const before = heldMemory();
    // Both entries: the fast lane's (/graphql) and Yoga's (/graphql?x).
    const attack = Array.from({ length: 40 }, (_, i) => stall(gw.url, postHead(i % 2 ? '/graphql?x' : '/graphql', MiB), MiB - 1));
    try {
      await eventually(() => gw.gateway.inflightBodies.bytes === 3 * MiB, 10_000);
      // The refused ones are answered and closed at once; the held ones stay open (null here).
      const answered = await Promise.all(
        attack.map((exchange) => Promise.race([exchange.closed, new Promise<null>((resolve) => setTimeout(() => resolve(null), 3000))])),
      );
      const busy = answered.filter((result) => result !== null);
      expect(busy).toHaveLength(37);
      for (const { text } of busy) {
        expect(statusOf(text)).toBe(503);
        expect(text).toMatch(/\r\nretry-after: 1\r\n/i);
        expect(codeOf(text)).toBe('SERVER_BUSY');
      }
      // 40 MiB were declared and sent; what the gateway holds is bounded by the 3 MiB it admitted.
      expect((heldMemory() - before) / (40 * MiB)).toBeLessThan(0.3);
      expect((await fetch(new URL('/health', gw.url))).status).toBe(200);
      const metrics = await fetch(new URL('/metrics', gw.url)).then((res) => res.text());
      expect(metrics).toMatch(new RegExp(`^gateway_inflight_body_bytes ${3 * MiB}$`, 'm'));
      // The last quarter is kept for small bodies: a GraphQL request runs beside the held uploads.
      expect((await gw.graphql({ query: '{ __typename }' })).body).toEqual({ data: { __typename: 'Query' } });
    } finally {
      for (const { socket } of attack) socket.destroy();
    }
    await eventually(() => gw.gateway.inflightBodies.bytes === 0);
    // Held bytes are released with their connections: a normal request runs again.
    const res = await gw.graphql({ query: '{ __typename }' });
    expect(res.body).toEqual({ data: { __typename: 'Query' } });
  });

  test('Expect: 100-continue: refused before the body is sent when the bound is reached, told to continue otherwise', async () => {
    const expectHead = (length: number) => postHead('/graphql', length).replace('\r\n\r\n', '\r\nexpect: 100-continue\r\n\r\n');
    const holding = Array.from({ length: 4 }, () => stall(gw.url, postHead('/graphql', MiB), 10));
    try {
      await eventually(() => gw.gateway.inflightBodies.bytes === 3 * MiB);
      const refused = stall(gw.url, expectHead(MiB));
      const { text } = await refused.closed;
      expect(statusOf(text)).toBe(503);
      expect(text).not.toContain('100 Continue');
    } finally {
      for (const { socket } of holding) socket.destroy();
    }
    await eventually(() => gw.gateway.inflightBodies.bytes === 0);
    const body = JSON.stringify({ query: '{ __typename }' });
    const admitted = stall(gw.url, expectHead(Buffer.byteLength(body)));
    await new Promise<void>((resolve) => admitted.socket.once('data', (chunk: Buffer) => (expect(chunk.toString()).toMatch(/^HTTP\/1\.1 100 Continue\r\n/), resolve())));
    admitted.socket.end(body);
    const { text } = await admitted.closed;
    expect(text).toContain('{"data":{"__typename":"Query"}}');
  });

  test('/health answers while 300 slow small bodies are held', async () => {
    const held = Array.from({ length: 300 }, (_, i) => stall(gw.url, postHead(i % 2 ? '/graphql?x' : '/graphql', 1024), 1023));
    try {
      await eventually(() => gw.gateway.inflightBodies.bytes === 300 * 1024, 10_000);
      for (let i = 0; i < 5; i += 1) expect((await fetch(new URL('/health', gw.url))).status).toBe(200);
      expect(await new Promise<number>((resolve) => gw.gateway.server.getConnections((_error, count) => resolve(count)))).toBeGreaterThanOrEqual(300);
    } finally {
      for (const { socket } of held) socket.destroy();
    }
    await eventually(() => gw.gateway.inflightBodies.bytes === 0);
  });
});

describe('MAX_CONNECTIONS', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({
      upstreamUrl: upstream.url,
      env: { MAX_CONNECTIONS: '20' },
    });
  });
  afterAll(() => gw.close());

  test('a connection beyond the bound is closed unanswered; one freed makes room', async () => {
    const connections = () => new Promise<number>((resolve) => gw.gateway.server.getConnections((_error, count) => resolve(count)));
    const idle = Array.from({ length: 20 }, () => stall(gw.url, 'GET /health HTTP/1.1\r\n'));
    try {
      let count = 0;
      await eventually(() => {
        void connections().then((n) => (count = n));
        return count === 20;
      });
      const extra = stall(gw.url, 'GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
      expect((await extra.closed).text).toBe('');
      idle[0]!.socket.destroy();
      await eventually(() => {
        void connections().then((n) => (count = n));
        return count === 19;
      });
      expect((await fetch(new URL('/health', gw.url))).status).toBe(200);
    } finally {
      for (const { socket } of idle) socket.destroy();
    }
  });
});
