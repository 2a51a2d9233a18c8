// Redis lost its data (FLUSHALL, or a restart of a Redis without persistence): the gateway
// notices (its epoch key gone, a settle finding its record gone), logs an error line, counts
// gateway_idempotency_store_resets_total, writes the first request's outcome back, and refuses
// keyed awards (nothing sent) while an award claimed before the loss may be in flight, so the
// retry replays instead of awarding twice.

import { describe, expect, test } from 'vitest';
import type { TestGateway } from '../support/gateway.js';
import { eventually } from '../support/operations.js';
import { challengeHistoryBody } from '../support/scriptable-upstream.js';
import { codedError, holdAwards, keyedAdd, newKey, redisAvailable, useTwoRedisGateways } from './keyed.js';

// Two instances on one Redis; the worst case from claim to settle: 100 + 3000 + 2 x 300 + 1000 ms.
const ENV = { REDIS_TIMEOUT_MS: '300', UPSTREAM_QUEUE_TIMEOUT_MS: '100', UPSTREAM_TIMEOUT_MS: '3000', REDIS_KEY_PREFIX: 'reset-test:' };
const MARK_MS = 4_700;

describe.skipIf(!redisAvailable)('Redis lost its data', () => {
  const fx = useTwoRedisGateways(ENV);

  const resets = async (gw: TestGateway) =>
    Number(/gateway_idempotency_store_resets_total (\d+)/.exec(await fetch(new URL('/metrics', gw.url)).then((r) => r.text()))?.[1]);
  const lossLogged = (gw: TestGateway) => gw.logs.some((line) => /"level":"error".*idempotency store lost its data/.test(line));

  /** Sends `key` on `gw` until it is not refused for the store (bounded by the refusal window); every answer kept. */
  async function untilServed(gw: TestGateway, key: string) {
    const answers = [];
    const deadline = Date.now() + MARK_MS + 3_000;
    while (Date.now() < deadline) {
      const answer = await keyedAdd(gw, key);
      answers.push(answer);
      if (codedError(answer)?.code !== 'IDEMPOTENCY_STORE_UNAVAILABLE') return { answer, answers };
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('still refused after the refusal window');
  }

  async function lossDuringAward(lose: () => Promise<void>) {
    const { upstream, first, second } = fx;
    // Past an earlier test's refusal window on both instances.
    upstream.respondWith({ status: 201, body: challengeHistoryBody() });
    await untilServed(first, newKey());
    await untilServed(second, newKey());
    upstream.reset();
    const answer = holdAwards(upstream);
    const key = newKey();
    const inFlight = keyedAdd(first, key);
    await eventually(() => upstream.requests.length === 1);
    const resetsBefore = await resets(first);
    await lose();
    // Retries on the other instance while the first is in flight: refused (reset), never sent.
    let sawReset = false;
    for (let tries = 0; tries < 60 && !sawReset; tries++) {
      const retry = await keyedAdd(second, key);
      expect(codedError(retry)).toMatchObject({ code: 'IDEMPOTENCY_STORE_UNAVAILABLE', outcomeUnknown: false });
      sawReset = /lost its data/.test(retry.body.errors[0].message);
      if (!sawReset) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(sawReset).toBe(true);
    expect(upstream.requests).toHaveLength(1);
    answer.open();
    expect((await inFlight).body.data.addChallengeHistory).toMatchObject({ __typename: 'AddChallengeHistorySuccess', replayed: false });
    // The first's settle found its record gone and wrote it back: the retry replays it.
    const { answer: replayed } = await untilServed(second, key);
    expect(replayed.body.data.addChallengeHistory).toMatchObject({ __typename: 'AddChallengeHistorySuccess', replayed: true });
    expect(upstream.requests).toHaveLength(1);
    expect(await resets(first)).toBeGreaterThan(resetsBefore);
    expect(lossLogged(first)).toBe(true);
    expect(lossLogged(second)).toBe(true);
  }

  test('FLUSHALL during an award: the retry is refused until the first ends, then replays (1 POST)', async () => {
    await lossDuringAward(async () => void (await fx.admin.flushall()));
  });

  test('a restart without persistence during an award: the retry is refused until the first ends, then replays (1 POST)', async () => {
    await lossDuringAward(async () => {
      await fx.redis.stop();
      await fx.redis.start();
    });
  });

  test('FLUSHALL after the award settled: logged as an error and counted within seconds, with no traffic', async () => {
    const { admin, upstream, first } = fx;
    upstream.reset();
    upstream.respondWith({ status: 201, body: challengeHistoryBody() });
    // Past the earlier tests' refusal windows.
    await untilServed(first, newKey());
    const before = await resets(first);
    first.logs.length = 0;
    await admin.flushall();
    const deadline = Date.now() + 5_000;
    while ((await resets(first)) === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await resets(first)).toBe(before + 1);
    expect(lossLogged(first)).toBe(true);
  });
});
