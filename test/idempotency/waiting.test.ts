// Waiting is cheap: 1,000 repeats of one in-flight key cost the store no command on the
// instance that runs the first (they wait on it), and a bounded number per second on another
// instance (one poller per key there), however many repeats wait. Store commands are counted
// by redis-server itself (INFO stats) and printed per second.

import { describe, expect, test } from 'vitest';
import type { TestGateway } from '../support/gateway.js';
import { eventually } from '../support/operations.js';
import { holdAwards, keyedAdd, newKey, redisAvailable, useTwoRedisGateways } from './keyed.js';

const WAITERS = 1_000;
const ENV = { UPSTREAM_TIMEOUT_MS: '20000', MAX_CONNECTIONS: '5000', REDIS_KEY_PREFIX: 'waiting-test:' };

describe.skipIf(!redisAvailable)('1,000 repeats of one in-flight key', () => {
  const fx = useTwoRedisGateways(ENV);

  /** Commands redis-server processed, less the INFO that asks. */
  const processed = async () => Number(/^total_commands_processed:(\d+)/m.exec(await fx.admin.info('stats'))![1]) - 1;

  /**
   * Runs the first on `first`, the repeats on `on`; answers the store commands per second while
   * they all wait: measured over 1 s windows until one is under `bound` (the repeats' arrival
   * and claims are over by then on a loaded machine too), at most for 10 s.
   */
  async function waitersCost(on: TestGateway, bound: number): Promise<number> {
    const { upstream, first } = fx;
    upstream.reset();
    const answer = holdAwards(upstream);
    const key = newKey();
    const firstAnswer = keyedAdd(first, key);
    await eventually(() => upstream.requests.length === 1);
    const repeats = Array.from({ length: WAITERS }, () => keyedAdd(on, key));
    // Every repeat has its connection (each waits on its own), then a moment for their bodies and claims.
    const connections = () => new Promise<number>((resolve) => on.gateway.server.getConnections((_, count) => resolve(count)));
    for (let tries = 0; tries < 300 && (await connections()) < WAITERS; tries++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await connections()).toBeGreaterThanOrEqual(WAITERS);
    await new Promise((resolve) => setTimeout(resolve, 500));
    let perSecond = Infinity;
    for (const deadline = Date.now() + 10_000; perSecond >= bound && Date.now() < deadline; ) {
      const before = await processed();
      const started = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      perSecond = ((await processed()) - before) / ((performance.now() - started) / 1000);
    }
    answer.open();
    expect((await firstAnswer).body.data.addChallengeHistory.replayed).toBe(false);
    const replays = await Promise.all(repeats);
    expect(replays.filter((r) => r.body.data?.addChallengeHistory?.replayed === true)).toHaveLength(WAITERS);
    expect(upstream.requests).toHaveLength(1);
    return perSecond;
  }

  test('on the instance that runs the first: no store command while they wait', { timeout: 60_000 }, async () => {
    const perSecond = await waitersCost(fx.first, 20);
    console.log(`${WAITERS} waiters on the first's instance: ${perSecond.toFixed(1)} store commands/s`);
    // What is left has nothing to do with the waiters: each instance's epoch check (a script every 2 s).
    expect(perSecond).toBeLessThan(20);
  });

  test('on another instance: one poller for the key, a bounded number of store commands per second', { timeout: 60_000 }, async () => {
    const perSecond = await waitersCost(fx.second, 60);
    console.log(`${WAITERS} waiters on another instance: ${perSecond.toFixed(1)} store commands/s`);
    // One read (a script: EVALSHA and the GET and PTTL it runs) every 100 ms, whatever the number of waiters, plus the epoch checks.
    expect(perSecond).toBeLessThan(60);
  });
});
