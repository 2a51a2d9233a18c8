// Calls that wait for an upstream connection: the wait is not part of the upstream deadline,
// so every award the upstream recorded comes back as a success; a call that never reached a
// socket (its connect never completed) ends by the deadline with its outcome known.

import { afterAll, beforeAll, expect, test } from 'vitest';
import { startGateway } from '../support/gateway.js';
import type { TestGateway } from '../support/gateway.js';
import { challengeHistoryBody, startScriptableUpstream, startStalledListener } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream, StalledListener } from '../support/scriptable-upstream.js';
import { ADD, addChallengeHistory } from '../support/operations.js';

const CONNECTIONS = 4;
const CLIENTS = 40;
const ANSWER_MS = 300;
// Roomy above one answer (a loaded 2-core machine), far below the ~3 s the last of 40 calls
// waits behind 4 connections.
const TIMEOUT_MS = 1000;

let upstream: ScriptableUpstream;
let gw: TestGateway;
beforeAll(async () => {
  upstream = await startScriptableUpstream();
  gw = await startGateway({
    upstreamUrl: upstream.url,
    env: { UPSTREAM_CONNECTIONS: String(CONNECTIONS), UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS) },
  });
});
afterAll(async () => {
  await gw.close();
  await upstream.close();
});

test(`${CLIENTS} concurrent awards over ${CONNECTIONS} connections: every award recorded upstream is answered as a success`, async () => {
  const recorded = new Map<string, number>(); // message -> record id
  upstream.respondWith(async (request) => {
    const { message } = request.json as { message: string };
    const id = 5000 + recorded.size;
    recorded.set(message, id);
    await new Promise((resolve) => setTimeout(resolve, ANSWER_MS));
    return { status: 201, body: challengeHistoryBody({ id, message }) };
  });

  const outcomes = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, i) => {
      const message = `queued-${i}`;
      const res = await gw.graphql({ query: ADD, variables: { ambassadorId: '7', input: { points: 1, score: 1, message } } });
      const result = res.body.data?.addChallengeHistory;
      return { message, result, extensions: res.body.errors?.[0]?.extensions };
    }),
  );

  expect(upstream.maxInFlight()).toBeLessThanOrEqual(CONNECTIONS);
  expect(upstream.requests).toHaveLength(recorded.size); // one POST per recorded award, none retried
  for (const { message, result, extensions } of outcomes) {
    if (recorded.has(message)) {
      expect(result).toEqual({ __typename: 'AddChallengeHistorySuccess', challengeHistory: { id: String(recorded.get(message)) } });
    } else {
      // Refused before it was sent: the upstream never heard of it, and the client is told so.
      expect(extensions).toMatchObject({ outcomeUnknown: false });
    }
  }
  // The wait behind a full pool (up to 10 answers long) did not turn recorded awards into errors.
  expect(outcomes.filter((o) => o.result?.__typename === 'AddChallengeHistorySuccess')).toHaveLength(CLIENTS);
});

test('a TCP connect that never completes ends at about the deadline, outcome known, nothing received', async () => {
  let stalled: StalledListener | undefined;
  let timed: TestGateway | undefined;
  try {
    stalled = await startStalledListener();
    timed = await startGateway({ upstreamUrl: stalled.url, env: { UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS) } });
    const started = performance.now();
    const res = await addChallengeHistory(timed);
    const elapsed = performance.now() - started;
    expect(res.body.data).toBeNull();
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0].extensions).toEqual({ code: 'UPSTREAM_TIMEOUT', outcomeUnknown: false });
    expect(res.body.errors[0].message).not.toContain('may have been recorded');
    // At the deadline, not at undici's 10 s connect timeout: generous on a shared machine.
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(elapsed).toBeLessThan(TIMEOUT_MS * 4);
  } finally {
    await timed?.close();
    await stalled?.close();
  }
});
