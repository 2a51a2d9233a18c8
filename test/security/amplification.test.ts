// What an answer costs (issue 18, finding 1), through the real gateway on loopback: the
// amplification request — 500 items the gateway's own checks refuse, each ValidationError selected
// through 30 aliases of fieldErrors, no token — within every other bound. GRAPHQL_MAX_COST refuses
// it before any field runs, on Yoga's path and the fast lane, for about the CPU of a normal award
// (measured within the run); four such clients beside normal traffic leave its p50 within 3× of
// its p50 alone; a full 500-item batch with the example's selection is still served; an answer
// over MAX_RESPONSE_BYTES is RESPONSE_TOO_LARGE on both paths.

import { afterAll, beforeAll, beforeEach, describe, expect, onTestFinished, test } from 'vitest';
import { amplificationRequest } from '../../scripts/support/amplification.js';
import { EXAMPLE_MUTATION } from '../../src/graphiql/example.js';
import { startGateway, useGatewayOn } from '../support/gateway.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import type { TestGateway } from '../support/gateway.js';
import { addChallengeHistory } from '../support/operations.js';
import { challengeById, startScriptableUpstream } from '../support/scriptable-upstream.js';

const { upstream, gw } = useGatewayOn(startScriptableUpstream);
beforeEach(() => {
  upstream.reset();
  upstream.respondWith(challengeById());
});

const attack = amplificationRequest();
const fastLaneAnswers = async (target: TestGateway) =>
  (await target.gateway.metrics.registry.getSingleMetric('gateway_fast_lane_requests_total')!.get()).values[0]?.value ?? 0;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
/** CPU (user + system, µs) this process spends on `run`: the gateway, its upstream and the client share it. */
async function cpuOf(run: () => Promise<unknown>): Promise<number> {
  const before = process.cpuUsage();
  await run();
  const { user, system } = process.cpuUsage(before);
  return user + system;
}

describe('GRAPHQL_MAX_COST', () => {
  test('the amplification request is refused before any field runs: 400 OPERATION_LIMIT_EXCEEDED with its cost and the limit', async () => {
    const res = await gw.graphql(attack, { token: null });
    expect(res.status).toBe(400);
    expect(res.body.data).toBeNull();
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0].extensions).toEqual({ code: 'OPERATION_LIMIT_EXCEEDED', cost: 61_000, maxCost: 25_000, outcomeUnknown: false });
    expect(JSON.stringify(res.body).length).toBeLessThan(1000);
    expect(upstream.requests).toHaveLength(0);
  });

  test('the fast lane refuses the same: a document admitted with one item, sent again with 500', async () => {
    const query = `# through the lane\n${attack.query}`;
    const admitted = await gw.graphql({ query, variables: { items: attack.variables.items.slice(0, 1) } }, { token: null });
    expect(admitted.status).toBe(200);
    expect(admitted.body.data.addChallengeHistories[0].__typename).toBe('ValidationError');
    const lanesBefore = await fastLaneAnswers(gw);
    const res = await gw.graphql({ query, variables: attack.variables }, { token: null });
    expect(await fastLaneAnswers(gw)).toBe(lanesBefore + 1);
    expect(res.status).toBe(400);
    // The same answer as Yoga's but for the locations (the lane's document starts one line later).
    const withoutLocations = ({ errors, ...body }: any) => ({ ...body, errors: errors.map(({ locations: _, ...error }: any) => error) });
    expect(withoutLocations(res.body)).toEqual(withoutLocations((await gw.graphql(attack, { token: null })).body));
  });

  test("refused for at most a small multiple of a normal award's CPU (was ×100 and more)", async () => {
    const rounds = 10;
    // Warm both paths first: the award's document is admitted to the lane, the attack's is parsed.
    for (let i = 0; i < 3; i += 1) await Promise.all([addChallengeHistory(gw), gw.graphql(attack, { token: null })]);
    const award = await cpuOf(async () => {
      for (let i = 0; i < rounds; i += 1) expect((await addChallengeHistory(gw)).body.errors).toBeUndefined();
    });
    const statuses: number[] = [];
    const refused = await cpuOf(async () => {
      for (let i = 0; i < rounds; i += 1) statuses.push((await gw.graphql(attack, { token: null })).status);
    });
    console.log(`CPU per request: award ${(award / rounds / 1000).toFixed(2)} ms, amplification ${(refused / rounds / 1000).toFixed(2)} ms`);
    expect(refused / award).toBeLessThan(8);
    expect(statuses).toEqual(Array(rounds).fill(400));
  });

  test('a full 500-item batch with the example mutation’s selection is within the bound, and served', async () => {
    const selection = EXAMPLE_MUTATION.slice(EXAMPLE_MUTATION.indexOf(') {') + 2, EXAMPLE_MUTATION.lastIndexOf('}'));
    const query = `mutation Full($items: [AddChallengeHistoryItemInput!]!) { addChallengeHistories(items: $items) ${selection} }`;
    const items = Array.from({ length: 500 }, (_, i) => ({ ambassadorId: String(i + 1), input: { points: 100, score: 87.5, message: 'Great first sale!', challengeId: '1' } }));
    const res = await gw.graphql({ query, variables: { items } });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.addChallengeHistories.map((r: { __typename: string }) => r.__typename)).toEqual(Array(500).fill('AddChallengeHistorySuccess'));
  });

  test('normal traffic beside four amplification clients keeps its p50 within 3× of its p50 alone', async () => {
    // The gateway in a process of its own, as deployed: the clients' and the upstream's CPU is this
    // process's, not its. On the unfixed code the ratio was about 1,000×; the rest of the machine
    // (another test file's worker on two cores) can move a p50 several times over for a moment,
    // so a measurement that lands on such a moment is taken again, three times at most.
    const gw = await startGatewayProcess({ UPSTREAM_URL: upstream.url.href });
    onTestFinished(() => gw.close());
    /** The p50 of `request` sent one after the other for 1.5 s (at most 300 times). */
    const p50Of = async (request: () => Promise<number>) => {
      const took: number[] = [];
      const until = performance.now() + 1500;
      for (let i = 0; i < 300 && performance.now() < until; i += 1) {
        const started = performance.now();
        expect(await request()).toBe(200);
        took.push(performance.now() - started);
      }
      return median(took);
    };
    const awardsP50 = () => p50Of(async () => (await addChallengeHistory(gw)).status);
    const healthP50 = () => p50Of(async () => (await fetch(new URL('/health', gw.url))).status);
    await healthP50(); // warm-up
    const measure = async () => {
      const aloneBefore = { awards: await awardsP50(), health: await healthP50() };
      // Four attackers, one request at a time each, a request every 250 ms at most (16/s in all,
      // five times the rate the issue measured); bounded by the measuring phase and a count.
      let measuring = true;
      let sent = 0;
      const attacker = async () => {
        for (let i = 0; i < 200 && measuring; i += 1) {
          const started = performance.now();
          await gw.graphql(attack, { token: null });
          sent += 1;
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, 250 - (performance.now() - started))));
        }
      };
      const attackers = Array.from({ length: 4 }, attacker);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const beside = { awards: await awardsP50(), health: await healthP50() };
      measuring = false;
      await Promise.all(attackers);
      // Alone before and after the attack: the lower of the two (a loaded machine slows either).
      const aloneAfter = { awards: await awardsP50(), health: await healthP50() };
      const alone = { awards: Math.min(aloneBefore.awards, aloneAfter.awards), health: Math.min(aloneBefore.health, aloneAfter.health) };
      console.log(`p50 alone ${alone.awards.toFixed(2)} ms (/health ${alone.health.toFixed(2)}), beside ${sent} amplification requests ${beside.awards.toFixed(2)} ms (/health ${beside.health.toFixed(2)})`);
      // A floor of 1 ms: on an idle loopback a p50 of 0.3 ms doubles from noise alone.
      return { awards: beside.awards / Math.max(alone.awards, 1), health: beside.health / Math.max(alone.health, 1), sent };
    };
    let ratios = await measure();
    for (let attempt = 1; attempt < 3 && (ratios.awards >= 3 || ratios.health >= 3); attempt += 1) ratios = await measure();
    expect(ratios.awards).toBeLessThan(3);
    expect(ratios.health).toBeLessThan(3);
    expect(ratios.sent).toBeGreaterThanOrEqual(8);
  }, 90_000);
});

describe('MAX_RESPONSE_BYTES', () => {
  let small: TestGateway;
  beforeAll(async () => {
    small = await startGateway({ upstreamUrl: upstream.url, env: { MAX_RESPONSE_BYTES: String(64 * 1024) } });
  });
  afterAll(() => small.close());

  // Within the cost bound (500 × 2 aliases: 5,000), about 0.3 MB of answer.
  const large = amplificationRequest(500, 2);

  test('an answer over the bound is RESPONSE_TOO_LARGE in its place, on Yoga’s path and the fast lane alike', async () => {
    const query = `# through the lane\n${large.query}`;
    const fits = await small.graphql({ query, variables: { items: large.variables.items.slice(0, 10) } }, { token: null });
    expect(fits.status).toBe(200);
    expect(fits.body.data.addChallengeHistories).toHaveLength(10);

    const lanesBefore = await fastLaneAnswers(small);
    const onLane = await small.graphql({ query, variables: large.variables }, { token: null });
    expect(await fastLaneAnswers(small)).toBe(lanesBefore + 1);
    const onYoga = await small.graphql(large, { token: null }); // not admitted yet: Yoga answers it
    for (const res of [onLane, onYoga]) {
      expect(res.body).toEqual({
        data: null,
        errors: [
          expect.objectContaining({
            extensions: { code: 'RESPONSE_TOO_LARGE', maxResponseBytes: 64 * 1024, outcomeUnknown: false },
          }),
        ],
      });
      expect(JSON.stringify(res.body).length).toBeLessThan(1000);
    }
    expect([onLane.status, onYoga.status]).toEqual([200, 200]);
    expect(upstream.requests).toHaveLength(0);
  });

  test('an HTTP batch shares one bound: operations that fit alone, too large together', async () => {
    const one = { query: large.query, variables: { items: large.variables.items.slice(0, 60) } };
    const alone = await small.graphql(one, { token: null });
    expect(alone.body.errors).toBeUndefined();
    const batch = await fetch(small.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify([one, one, one, one]),
    }).then((res) => res.json() as Promise<{ data: unknown; errors?: { extensions: { code: string } }[] }[]>);
    const codes = batch.map((answer) => answer.errors?.[0]?.extensions.code ?? 'answered');
    expect(codes).toContain('answered');
    expect(codes).toContain('RESPONSE_TOO_LARGE');
  });
});
