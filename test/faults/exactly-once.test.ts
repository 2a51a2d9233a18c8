// Exactly-once accounting under faults: many concurrent mutations against an upstream that
// records each history and then, for some, fails to deliver the answer. Every record the
// upstream created is reported to its client once, as a success or as an error with
// outcomeUnknown: true; nothing is retried; refusals create nothing and say so.

import { expect, test } from 'vitest';
import { useGatewayOn } from '../support/gateway.js';
import { challengeHistoryBody, startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { RecordedRequest, ScriptedResponse } from '../support/scriptable-upstream.js';
import { ADD } from '../support/operations.js';

const CLIENTS = 80;
const TIMEOUT_MS = 1000; // roomy: a loaded 2-core machine must not turn normal answers into timeouts

const { upstream, gw } = useGatewayOn(startScriptableUpstream, { UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS) });

/** What the upstream does with the n-th POST: create the record, then answer in one of these ways. */
const AFTER_CREATING: ScriptedResponse[] = [
  {}, // the success, filled in below
  { reset: 'before-response' },
  { reset: 'mid-body' },
  { delayMs: TIMEOUT_MS * 3 },
  { status: 500, body: 'oops' },
  { status: 502 },
  { status: 200, body: '<html>proxy error</html>' },
];
/** Refusals: nothing is created. */
const WITHOUT_CREATING: ScriptedResponse[] = [{ status: 422, body: { message: 'no', errors: { points: ['bad'] } } }, { status: 429 }];

test('records created at the upstream == successes + outcomeUnknown errors seen by clients, with no retry', async () => {
  const created = new Map<string, number>(); // message -> record id
  let posts = 0;
  upstream.respondWith((request: RecordedRequest) => {
    const n = posts++;
    const message = (request.json as { message: string }).message;
    const plan = [...AFTER_CREATING, ...WITHOUT_CREATING][n % (AFTER_CREATING.length + WITHOUT_CREATING.length)]!;
    if (WITHOUT_CREATING.includes(plan)) return plan;
    const id = 1000 + n;
    created.set(message, id);
    const body = challengeHistoryBody({ id, message });
    return plan === AFTER_CREATING[0] ? { status: 201, body } : { body, ...plan };
  });

  const outcomes = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, i) => {
      const message = `client-${i}`;
      const res = await gw.graphql({ query: ADD, variables: { ambassadorId: '7', input: { points: 1, score: 1, message } } });
      const result = res.body.data?.addChallengeHistory;
      if (result?.__typename === 'AddChallengeHistorySuccess') return { message, kind: 'success', id: Number(result.challengeHistory.id) };
      if (result) return { message, kind: 'refused' }; // a typed refusal: nothing recorded
      const extensions = res.body.errors[0].extensions;
      // With most answers failing, the circuit breaker opens: the rest are refused unsent.
      if (extensions.circuitOpen) return { message, kind: 'unsent', outcomeUnknown: extensions.outcomeUnknown };
      return { message, kind: extensions.outcomeUnknown ? 'unknown' : 'refused' };
    }),
  );

  const count = (kind: string) => outcomes.filter((o) => o.kind === kind).length;
  expect(posts).toBe(CLIENTS - count('unsent')); // one POST per client mutation sent: nothing retried
  for (const outcome of outcomes) if (outcome.kind === 'unsent') expect(outcome.outcomeUnknown).toBe(false);
  expect(created.size).toBe(count('success') + count('unknown'));
  expect(count('success')).toBeGreaterThan(0);
  expect(count('unknown')).toBeGreaterThan(0);
  expect(count('refused')).toBeGreaterThan(0);
  for (const outcome of outcomes) {
    // Each client's own history: reported as created (or maybe created) exactly when it was.
    if (outcome.kind === 'refused' || outcome.kind === 'unsent') expect(created.has(outcome.message)).toBe(false);
    else expect(created.has(outcome.message)).toBe(true);
    if (outcome.kind === 'success') expect(outcome.id).toBe(created.get(outcome.message));
  }
});
