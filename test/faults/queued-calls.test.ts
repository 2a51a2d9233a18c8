// Calls that wait for an upstream connection: the wait is not part of the upstream deadline,
// so every award the upstream recorded comes back as a success; a call that never reached a
// socket (its connect never completed) ends by the deadline with its outcome known.

import { beforeEach, expect, test } from 'vitest';
import { startGateway, useGatewayOn } from '../support/gateway.js';
import type { TestGateway } from '../support/gateway.js';
import { challengeHistoryBody, startScriptableUpstream } from '../support/scriptable-upstream.js';
import { startStalledListener } from '../support/stalled-listener.js';
import type { StalledListener } from '../support/stalled-listener.js';
import { ADD, addChallengeHistory } from '../support/operations.js';

const CONNECTIONS = 4;
const CLIENTS = 40;
const ANSWER_MS = 300;
// Roomy above one answer (a loaded 2-core machine), far below the ~3 s the last of 40 calls
// waits behind 4 connections.
const TIMEOUT_MS = 1000;

const { upstream, gw } = useGatewayOn(startScriptableUpstream, {
  UPSTREAM_CONNECTIONS: String(CONNECTIONS),
  UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS),
});
beforeEach(() => upstream.reset());

/**
 * CLIENTS concurrent awards through `target`; the upstream records each on arrival and answers
 * after `answerMs`. Checks that every recorded award came back as its success and every other
 * one as refused unsent (outcome known, never received); returns how many of each.
 */
async function concurrentAwards(target: TestGateway, answerMs: number): Promise<{ succeeded: number; refused: number }> {
  const recorded = new Map<string, number>(); // message -> record id
  upstream.respondWith(async (request) => {
    const { message } = request.json as { message: string };
    const id = 5000 + recorded.size;
    recorded.set(message, id);
    await new Promise((resolve) => setTimeout(resolve, answerMs));
    return { status: 201, body: challengeHistoryBody({ id, message }) };
  });

  const outcomes = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, i) => {
      const message = `queued-${i}`;
      const res = await target.graphql({ query: ADD, variables: { ambassadorId: '7', input: { points: 1, score: 1, message } } });
      return { message, result: res.body.data?.addChallengeHistory, error: res.body.errors?.[0] };
    }),
  );

  expect(upstream.maxInFlight()).toBeLessThanOrEqual(CONNECTIONS);
  expect(upstream.requests).toHaveLength(recorded.size); // one POST per recorded award, none retried
  let refused = 0;
  for (const { message, result, error } of outcomes) {
    if (recorded.has(message)) {
      expect(result).toEqual({ __typename: 'AddChallengeHistorySuccess', challengeHistory: { id: String(recorded.get(message)) } });
    } else {
      // Refused before it was sent: the upstream never heard of it, and the client is told so.
      expect(error.extensions).toEqual({ code: 'UPSTREAM_TIMEOUT', outcomeUnknown: false });
      refused++;
    }
  }
  return { succeeded: recorded.size, refused };
}

test(`${CLIENTS} concurrent awards over ${CONNECTIONS} connections: every award recorded upstream is answered as a success`, async () => {
  // The wait behind a full pool (up to 10 answers long) does not count against the deadline.
  expect(await concurrentAwards(gw, ANSWER_MS)).toEqual({ succeeded: CLIENTS, refused: 0 });
});

test('calls still waiting for a connection after UPSTREAM_QUEUE_TIMEOUT_MS (5 s) are refused unsent, the others succeed', async () => {
  // 1 s answers over 4 connections: about 24 calls get a connection within 5 s, the rest do not.
  const slow = await startGateway({
    upstreamUrl: upstream.url,
    env: { UPSTREAM_CONNECTIONS: String(CONNECTIONS), UPSTREAM_TIMEOUT_MS: '3000' },
  });
  try {
    const { succeeded, refused } = await concurrentAwards(slow, 1_000);
    expect(succeeded + refused).toBe(CLIENTS);
    expect(succeeded).toBeGreaterThanOrEqual(CONNECTIONS);
    expect(refused).toBeGreaterThan(0);
  } finally {
    await slow.close();
  }
}, 30_000);

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
