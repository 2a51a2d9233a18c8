// Clients that send a request and never read its answer (issue 18, finding 2), on raw sockets:
// the answer's bytes, the request body's share of MAX_INFLIGHT_BODY_BYTES and the connection's
// MAX_CONNECTIONS slot are released within RESPONSE_TIMEOUT_MS (plus a second) of the answer being
// written; answers written and not drained are bounded across connections
// (MAX_INFLIGHT_RESPONSE_BYTES: beyond it 503 SERVER_BUSY + Retry-After), while /health and
// /ready keep answering.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startGateway, TEST_TOKEN } from '../support/gateway.js';
import type { TestGateway } from '../support/gateway.js';
import { heldMemory } from '../support/memory.js';
import { eventually, gate } from '../support/operations.js';
import { codeOf, nonReading, stall, statusOf } from '../support/raw-http.js';
import { challengeBody, startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream } from '../support/scriptable-upstream.js';

const MiB = 1024 * 1024;
// About 5 MB of answer, cheap to produce: a challenge whose one title the upstream makes 500 KB
// long, selected through ten aliases (one upstream call); the body padded to 100 KB (an unused variable). Smaller answers fit in the kernel's socket
// buffers on loopback (about 4 MB): the process holds nothing for them, and the server's
// keep-alive timeout closes the connection (http/guard.ts).
const query = `query Big { challenge(id: "1") { ${Array.from({ length: 10 }, (_, i) => `t${i}: titles { content }`).join(' ')} } }`;
const BODY = JSON.stringify({ query, operationName: 'Big', variables: { pad: 'x'.repeat(100_000) } });
const AUTHORIZATION = `authorization: Bearer ${TEST_TOKEN}\r\n`;
const LARGE_ANSWERS = { MAX_RESPONSE_BYTES: String(8 * MiB), UPSTREAM_MAX_RESPONSE_BYTES: String(8 * MiB) };
const HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${TEST_TOKEN}` };

const BIG_CHALLENGE = { status: 200, body: challengeBody(1, { titles: [{ id_i18n_content: 10, lang: 'en_GB', content: 'x'.repeat(500_000) }] }) };

let upstream: ScriptableUpstream;
beforeAll(async () => {
  upstream = await startScriptableUpstream();
  upstream.respondWith(BIG_CHALLENGE);
});
afterAll(() => upstream.close());

const connections = (gw: TestGateway) => new Promise<number>((resolve) => gw.gateway.server.getConnections((_error, count) => resolve(count)));
const answeredRequests = (gw: TestGateway) => gw.logs.filter((line) => line.includes('"operationName":"Big"')).length;
async function eventuallyAsync(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);

describe('RESPONSE_TIMEOUT_MS', () => {
  let gw: TestGateway;
  const RESPONSE_TIMEOUT_MS = 5000;
  beforeAll(async () => {
    gw = await startGateway({
      upstreamUrl: upstream.url,
      env: { ...LARGE_ANSWERS, UPSTREAM_CONNECTIONS: '200', RESPONSE_TIMEOUT_MS: String(RESPONSE_TIMEOUT_MS), MAX_CONNECTIONS: '120', MAX_INFLIGHT_RESPONSE_BYTES: String(1024 * MiB) },
    });
  });
  afterAll(() => gw.close());

  test('120 connections that never read their 5 MB answers release memory, body bytes and slots within the timeout plus a second', async () => {
    // The document is admitted to the fast lane first: half the readers take it, half Yoga's path.
    expect((await gw.graphql({ query, operationName: 'Big' })).status).toBe(200);
    const answerBytes = (await fetch(gw.url, { method: 'POST', headers: HEADERS, body: BODY }).then((res) => res.arrayBuffer())).byteLength;
    expect(answerBytes).toBeGreaterThan(0.8 * MiB);
    // Every slot free (fetch's keep-alive connections closed by the server's keep-alive timeout).
    await eventuallyAsync(async () => (await connections(gw)) === 0, 15_000);
    const before = heldMemory();
    const logged = answeredRequests(gw);
    // The upstream holds its answers until all 120 requests are in: every slot is taken at once,
    // and the answers are written together, well within RESPONSE_TIMEOUT_MS of each other.
    const allIn = gate();
    upstream.reset();
    upstream.respondWith(async () => (await allIn.opened, BIG_CHALLENGE));
    const readers = Array.from({ length: 120 }, (_, i) => nonReading(gw.url, i % 2 ? '/graphql?x' : '/graphql', BODY, AUTHORIZATION));
    try {
      await eventually(() => upstream.requests.length === 120, 30_000);
      // Every slot is taken: a new connection is closed unanswered.
      expect((await stall(gw.url, 'GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n').closed).text).toBe('');
      allIn.open();
      await eventually(() => answeredRequests(gw) - logged === 120, 60_000);
      const written = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 200)); // the log line is written just before the answer
      const held = heldMemory() - before;
      console.log(`120 non-reading connections hold ${(held / MiB).toFixed(1)} MiB (answers of ${(answerBytes / MiB).toFixed(2)} MiB)`);
      expect(held).toBeGreaterThan(50 * MiB);

      // The gateway's side: every connection destroyed, its body bytes released, by the deadline.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, RESPONSE_TIMEOUT_MS + 1000 - (performance.now() - written))));
      expect(await connections(gw)).toBeLessThan(5); // fetch's own keep-alive connections at most
      expect(gw.gateway.inflightBodies.bytes).toBe(0);
      expect(gw.gateway.undrainedAnswers.bytes).toBe(0);
      expect((heldMemory() - before) / held).toBeLessThan(0.15);
      // The clients' side: a paused socket learns of it once it reads again.
      for (const { socket } of readers) socket.resume();
      expect(await within(Promise.all(readers.map((reader) => reader.closed)), 5000)).toBe(true);
      expect((await fetch(new URL('/health', gw.url))).status).toBe(200);
    } finally {
      for (const { socket } of readers) socket.destroy();
      upstream.respondWith(BIG_CHALLENGE);
    }
  }, 120_000);

  test('a reader that reads gets its whole answer', async () => {
    const res = await fetch(gw.url, { method: 'POST', headers: HEADERS, body: BODY });
    expect(res.status).toBe(200);
    expect((await res.json()).data.challenge.t9[0].content).toHaveLength(500_000);
  });
});

describe('MAX_INFLIGHT_RESPONSE_BYTES', () => {
  let gw: TestGateway;
  const RESPONSE_TIMEOUT_MS = 2000;
  beforeAll(async () => {
    gw = await startGateway({
      upstreamUrl: upstream.url,
      env: { ...LARGE_ANSWERS, RESPONSE_TIMEOUT_MS: String(RESPONSE_TIMEOUT_MS), MAX_INFLIGHT_RESPONSE_BYTES: String(8 * MiB) },
    });
  });
  afterAll(() => gw.close());

  test('past the bound new requests get 503 SERVER_BUSY + Retry-After; /health and /ready answer; served again once the readers are dropped', async () => {
    const readers = Array.from({ length: 3 }, () => nonReading(gw.url, '/graphql', BODY, AUTHORIZATION));
    try {
      await eventually(() => gw.gateway.undrainedAnswers.bytes > 8 * MiB, 30_000);
      const refused = stall(gw.url, `POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 26\r\nconnection: close\r\n\r\n{"query":"{ __typename }"}`);
      const { text } = await refused.closed;
      expect(statusOf(text)).toBe(503);
      expect(text).toMatch(/\r\nretry-after: 1\r\n/i);
      expect(codeOf(text)).toBe('SERVER_BUSY');
      for (const path of ['/health', '/ready']) expect((await fetch(new URL(path, gw.url))).status).toBe(200);
      const metrics = await fetch(new URL('/metrics', gw.url)).then((res) => res.text());
      expect(metrics).toMatch(/^gateway_undrained_response_bytes \d{7,}$/m);
      await new Promise((resolve) => setTimeout(resolve, RESPONSE_TIMEOUT_MS + 1000));
      expect(gw.gateway.undrainedAnswers.bytes).toBe(0);
    } finally {
      for (const { socket } of readers) socket.destroy();
    }
    expect(gw.gateway.undrainedAnswers.bytes).toBe(0);
    expect((await gw.graphql({ query: '{ __typename }' })).body).toEqual({ data: { __typename: 'Query' } });
  }, 30_000);
});
