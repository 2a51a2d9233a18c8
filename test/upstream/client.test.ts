// UpstreamClient on real loopback sockets: the wait for a free connection is bounded and a call
// that ends before its request reached a socket never "may have been processed".

import { afterEach, beforeEach, expect, test } from 'vitest';
import { UpstreamClient } from '../../src/upstream/client.js';
import type { UpstreamClientOptions } from '../../src/upstream/client.js';
import { ADD_CHALLENGE_HISTORY } from '../../src/upstream/endpoints.js';
import { UpstreamError } from '../../src/upstream/errors.js';
import { challengeHistoryBody, startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream } from '../support/scriptable-upstream.js';
import { eventually, gate } from '../support/operations.js';

const TIMEOUT_MS = 5_000; // never reached: these tests decide when the upstream answers

let upstream: ScriptableUpstream;
let client: UpstreamClient;
let held: ReturnType<typeof gate>;

beforeEach(async () => {
  upstream = await startScriptableUpstream();
  held = gate();
  upstream.respondWith(async () => {
    await held.opened;
    return { status: 201, body: challengeHistoryBody() };
  });
});
afterEach(async () => {
  held.open();
  await client.destroy();
  await upstream.close();
});

function start(options: Partial<UpstreamClientOptions>): UpstreamClient {
  client = new UpstreamClient({ baseUrl: upstream.url, timeoutMs: TIMEOUT_MS, maxResponseBytes: 65_536, connections: 1, ...options });
  return client;
}

const award = (answerBy?: number) =>
  client.call(ADD_CHALLENGE_HISTORY, { id: 7 }, { points: 1, score: 1 }, { token: 't', answerBy }).then(
    (record) => ({ record, error: null }),
    (error: unknown) => ({ record: null, error: error as UpstreamError }),
  );

const notSent = { kind: 'timeout', requestMayHaveBeenProcessed: false, status: null };

test('a call still waiting for a connection after queueTimeoutMs fails unsent, while the calls holding connections go on', async () => {
  start({ connections: 2, queueTimeoutMs: 100 });
  const calls = Array.from({ length: 6 }, () => award());
  await eventually(() => upstream.requests.length === 2);
  // Settled while both connections still hold unanswered calls: refused for the wait alone.
  const refused = await Promise.all(calls.slice(2));
  expect(upstream.requests).toHaveLength(2);
  for (const { error } of refused) {
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject(notSent);
  }
  held.open();
  for (const { record } of await Promise.all(calls.slice(0, 2))) expect(record?.id).toBe(42);
  expect(client.queuedCalls).toBe(0);
});

test('a call is not sent when a whole deadline no longer fits before its answerBy, even with a connection free', async () => {
  start({ queueTimeoutMs: 10_000 });
  held.open();
  const tooLate = await award(performance.now() + TIMEOUT_MS - 50);
  expect(tooLate.error).toMatchObject(notSent);
  expect(upstream.requests).toHaveLength(0);
  const inTime = await award(performance.now() + TIMEOUT_MS + 10_000);
  expect(inTime.record?.id).toBe(42);
  expect(upstream.requests).toHaveLength(1);
});

test('answerBy also shortens the wait for a connection', async () => {
  start({ queueTimeoutMs: 60_000 });
  const first = award();
  await eventually(() => upstream.requests.length === 1);
  const second = await award(performance.now() + TIMEOUT_MS + 100); // may wait ~100 ms, not 60 s
  expect(second.error).toMatchObject(notSent);
  held.open();
  expect((await first).record?.id).toBe(42);
  expect(upstream.requests).toHaveLength(1);
});

test('destroyed with calls in flight and queued: only the written one may have been processed', async () => {
  start({ queueTimeoutMs: 10_000 });
  const written = award();
  await eventually(() => upstream.requests.length === 1);
  const queued = [award(), award()];
  await eventually(() => client.queuedCalls === 2);
  await client.destroy();
  expect((await written).error).toMatchObject({ requestMayHaveBeenProcessed: true });
  for (const { error } of await Promise.all(queued)) {
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ requestMayHaveBeenProcessed: false });
  }
  expect(upstream.requests).toHaveLength(1);
});
