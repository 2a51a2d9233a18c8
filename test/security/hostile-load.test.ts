// The hostile load of issue 9 on real sockets: /health stays fast while slow bodies are held
// (a latency ratio measured within the run, with and without the attack) and memory stays
// bounded; and 20 concurrent batches of 100 awards against an upstream answering in 1 s
// (deadline 1.5 s, UPSTREAM_CONNECTIONS default): every award the upstream recorded comes back
// as its success, except those whose answer arrived after the deadline (outcomeUnknown: true).

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { answerOf, AwardLedger, reportTally } from '../support/award-ledger.js';
import { startGateway } from '../support/gateway.js';
import type { TestGateway } from '../support/gateway.js';
import { heldMemory } from '../support/memory.js';
import { ADD, eventually, VALID_INPUT } from '../support/operations.js';
import { postHead, stall } from '../support/raw-http.js';
import { challengeHistoryBody, startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream } from '../support/scriptable-upstream.js';

const MiB = 1024 * 1024;

let upstream: ScriptableUpstream;
beforeAll(async () => {
  upstream = await startScriptableUpstream();
});
afterAll(() => upstream.close());

/** Median latency of `count` /health requests, one after the other. */
async function healthMedianMs(url: URL, count = 25): Promise<number> {
  const timings: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const res = await fetch(new URL('/health', url));
    await res.arrayBuffer();
    expect(res.status).toBe(200);
    timings.push(performance.now() - started);
  }
  return timings.sort((a, b) => a - b)[Math.floor(count / 2)]!;
}

const connections = (gw: TestGateway) => new Promise<number>((resolve) => gw.gateway.server.getConnections((_error, n) => resolve(n)));

describe('/health under 500 slow bodies (MAX_INFLIGHT_BODY_BYTES default, 64 MiB)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ upstreamUrl: upstream.url });
  });
  afterAll(() => gw.close());

  // [what, declared bytes, bytes sent before stalling, connections the gateway holds]
  test.each([
    ['500 connections declaring 1 KiB, one byte short: all 500 held', 1024, 1023, 500],
    ['500 connections declaring 1 MiB, one byte short (the issue): 48 held, 452 refused', MiB, MiB - 1, 48],
  ])('%s; /health median within 5x of its median without them; memory bounded', async (_what, declared, sent, held) => {
    await healthMedianMs(gw.url, 5); // the probe's own connection and the handler warmed up
    const quiet = await healthMedianMs(gw.url);
    const before = heldMemory();
    const attack = Array.from({ length: 500 }, (_, i) => stall(gw.url, postHead(i % 2 ? '/graphql?x' : '/graphql', declared), sent));
    try {
      await eventually(() => gw.gateway.inflightBodies.bytes === held * declared, 20_000);
      let open = 0;
      await eventually(() => {
        void connections(gw).then((n) => (open = n));
        return open >= held && open <= held + 2; // the refused are closed (the probe's own connection may be open)
      }, 10_000);
      const attacked = await healthMedianMs(gw.url);
      const grown = heldMemory() - before;
      console.log(`${_what}: /health median ${quiet.toFixed(2)} ms quiet, ${attacked.toFixed(2)} ms attacked; held memory grew ${(grown / MiB).toFixed(1)} MiB of ${((500 * sent) / MiB).toFixed(1)} MiB sent`);
      // Generous: a 2-core machine shared with other work; before the bounds it was 1.9 s against ms.
      expect(attacked / quiet).toBeLessThan(5);
      // What the gateway holds is bounded by what it admitted (held × declared), not what was sent.
      expect(grown).toBeLessThan(held * declared * 1.5 + 16 * MiB);
    } finally {
      for (const { socket } of attack) socket.destroy();
    }
    await eventually(() => gw.gateway.inflightBodies.bytes === 0);
  }, 60_000);
});

describe('GraphQL requests while slow large bodies hold what they may of MAX_INFLIGHT_BODY_BYTES', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ upstreamUrl: upstream.url });
  });
  afterAll(() => gw.close());

  test('500 connections declaring 1 MiB and stalling: an award still goes through, a 100 KiB request is refused', async () => {
    upstream.reset();
    const attack = Array.from({ length: 500 }, () => stall(gw.url, postHead('/graphql', MiB), MiB - 1));
    try {
      // Large bodies together hold at most three quarters of the 64 MiB bound.
      await eventually(() => gw.gateway.inflightBodies.bytes === 48 * MiB, 20_000);
      const award = await gw.graphql({ query: ADD, variables: { ambassadorId: '7', input: VALID_INPUT } });
      expect(award.status).toBe(200);
      expect(award.body.data.addChallengeHistory.__typename).toBe('AddChallengeHistorySuccess');
      expect(upstream.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
      // A body of 100 KiB is a large one: no room left for it.
      const upload = await gw.graphql({ query: `{ __typename }${' '.repeat(100 * 1024)}` });
      expect(upload.status).toBe(503);
      expect(upload.body.errors[0].extensions.code).toBe('SERVER_BUSY');
    } finally {
      for (const { socket } of attack) socket.destroy();
    }
    await eventually(() => gw.gateway.inflightBodies.bytes === 0);
  }, 60_000);
});

describe('issue item 4: 20 concurrent batches of 100 against a 1 s upstream, UPSTREAM_TIMEOUT_MS 1500', () => {
  const BATCHES = 20;
  const ITEMS = 100;
  const ANSWER_MS = 1_000;
  let gw: TestGateway;
  beforeAll(async () => {
    // The breaker off: this measures the deadline's accounting against a slow, healthy upstream. On a
    // loaded machine the shared event loop turns some answers into timeouts, and the breaker (on by
    // default) would then refuse most awards unsent: another scenario (test/faults/circuit-breaker.test.ts).
    gw = await startGateway({ upstreamUrl: upstream.url, env: { UPSTREAM_TIMEOUT_MS: '1500', UPSTREAM_BREAKER_FAILURES: '0' } });
  });
  afterAll(() => gw.close());

  test('every award the upstream recorded is answered as its success, or outcomeUnknown when its answer came late', async () => {
    upstream.reset();
    const ledger = new AwardLedger(BATCHES * ITEMS);
    let nextId = 1;
    // Whether the gateway was still waiting when the upstream's answer left (its connection open).
    const answerLeftInTime = new Map<number, boolean>();
    upstream.respondWith(async (request) => {
      const award = ledger.awardOf(request.json);
      const id = nextId++;
      if (award !== undefined) ledger.record(award, id);
      await new Promise((resolve) => setTimeout(resolve, ANSWER_MS));
      if (award !== undefined) answerLeftInTime.set(award, request.socketOpen());
      return { status: 201, body: challengeHistoryBody({ id }) };
    });
    // Gateway, upstream and clients share this process: its event-loop delay is how late timers fire.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const ADD_MANY = `mutation AddMany($items: [AddChallengeHistoryItemInput!]!) { addChallengeHistories(items: $items) {
      __typename ... on AddChallengeHistorySuccess { challengeHistory { id } } } }`;
    await Promise.all(
      Array.from({ length: BATCHES }, async () => {
        const awards = Array.from({ length: ITEMS }, () => ledger.issue()!);
        const items = awards.map(({ message }) => ({ ambassadorId: '7', input: { points: 1, score: 1, challengeId: '3', message } }));
        const res = await gw.graphql({ query: ADD_MANY, variables: { items } });
        expect(res.status).toBe(200);
        const errors = new Map<number, any>((res.body.errors ?? []).map((error: any) => [error.path?.[1], error]));
        awards.forEach(({ award }, i) => ledger.answer(award, answerOf(res.body.data?.addChallengeHistories?.[i], errors.get(i))));
      }),
    );
    loopDelay.disable();
    const tally = ledger.tally();
    const lines: string[] = [];
    reportTally(tally, (line) => lines.push(line));
    const unknownAwards = [...answerLeftInTime.keys()].filter((award) => ledger.answerKindOf(award) === 'outcomeUnknown');
    const givenUpBeforeAnswer = unknownAwards.filter((award) => !answerLeftInTime.get(award)).length;
    console.log(
      `issue item 4, ${BATCHES} × ${ITEMS}:\n${lines.join('\n')}\n  of the outcomeUnknown: ${givenUpBeforeAnswer} had their connection closed by the gateway's deadline before the upstream's answer left, ${unknownAwards.length - givenUpBeforeAnswer} not; ` +
        `event-loop delay p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms, max ${(loopDelay.max / 1e6).toFixed(0)} ms`,
    );

    expect(upstream.requests).toHaveLength(tally.recorded); // one POST per recorded award, none retried
    expect(upstream.maxInFlight()).toBeLessThanOrEqual(gw.config.upstreamConnections);
    expect(tally.recordedLost).toBe(0);
    expect(tally.phantom).toBe(0);
    // A recorded award that is not a success is one whose answer missed the deadline: unknown, and said so.
    expect([...tally.recordedNotSucceeded.keys()].every((label) => label === 'UPSTREAM_TIMEOUT (outcomeUnknown)')).toBe(true);
    // An award never received was never sent: its outcome is known (refused while queued).
    expect([...tally.notRecorded.keys()].every((label) => label.endsWith('(outcomeKnown)'))).toBe(true);
    // Before: 354 of 2,000 recorded awards came back as successes (1,646 unknown). Now an award
    // answered unknown is one whose answer came after its deadline: mostly the deadline had closed
    // its connection before the upstream answered; the rest left just before it and were read
    // just after, when the shared event loop stalled (its delay is printed above). A bound, not
    // an expectation: on a quiet machine all 2,000 are successes.
    expect(tally.recordedUnknown).toBeLessThanOrEqual(tally.recorded * 0.1);
    expect(tally.recorded).toBeGreaterThan(BATCHES * ITEMS * 0.9);
  }, 120_000);
});
