// The fast lane fails closed: a plugin in Yoga's list that is not declared lane-safe (here a
// probe with a side effect on every execution, the shape of a rate limiter or an audit log)
// turns the lane off, so the probe runs for every request; the start-up log says which path
// is active and why (a broken internal turns it off the same way: internals.test.ts). A plugin
// declared lane-safe because the lane runs its observers sees every request once, on both paths.

import type { Plugin } from 'graphql-yoga';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { laneSafe } from '../../src/lane/safety.js';
import { useRequestObservers } from '../../src/plugins/request-telemetry.js';
import { subgraphSchema } from '../../src/schema/index.js';
import { startGateway } from '../support/gateway.js';
import { startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream } from '../support/scriptable-upstream.js';

let upstream: ScriptableUpstream;
beforeAll(async () => {
  upstream = await startScriptableUpstream();
});
afterAll(() => upstream.close());

/** A plugin that counts the executions it sees. */
function executionProbe(): { plugin: Plugin; count: () => number } {
  let executions = 0;
  return { plugin: { onExecute: () => void (executions += 1) }, count: () => executions };
}

/** Sends the same document five times; what the probe and the lane counter saw. */
async function fiveRequestsWith(plugin: Plugin, probe: () => number) {
  const gw = await startGateway({ upstreamUrl: upstream.url, options: { plugins: [plugin] } });
  try {
    for (let i = 0; i < 5; i += 1) expect((await gw.graphql({ query: '{ __typename }' })).body).toEqual({ data: { __typename: 'Query' } });
    const lane = (await gw.gateway.metrics.registry.getSingleMetric('gateway_fast_lane_requests_total')!.get()).values[0]?.value ?? 0;
    const startUp = gw.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.msg === 'request paths');
    return { probe: probe(), lane, startUp, status: await gw.gateway.fastLane };
  } finally {
    await gw.close();
  }
}

test('an undeclared plugin turns the lane off: the probe sees all 5 requests, and start-up says why', async () => {
  const { plugin, count } = executionProbe();
  const seen = await fiveRequestsWith(plugin, count);
  expect(seen.probe).toBe(5);
  expect(seen.lane).toBe(0);
  expect(seen.status.on).toBe(false);
  expect(seen.startUp).toEqual([expect.objectContaining({ level: 'info', fastLane: false, reason: expect.stringMatching(/1 plugin\(s\) .* not declared lane-safe/) })]);
});

test('the same plugin declared lane-safe keeps the lane on (4 of 5 by the lane): declaring is a decision', async () => {
  const { plugin, count } = executionProbe();
  const seen = await fiveRequestsWith(laneSafe(plugin, 'counts Yoga executions only'), count);
  expect(seen.lane).toBe(4);
  expect(seen.probe).toBe(1);
  expect(seen.startUp).toEqual([expect.objectContaining({ fastLane: true })]);
});

test('a counting plugin declared lane-safe because the lane runs its observer fires once per request on both paths', async () => {
  const seen = new Map<string, string[]>();
  const note = (id: string, hook: string) => seen.set(id, [...(seen.get(id) ?? []), hook]);
  const counter = useRequestObservers([
    {
      onStart: (t) => note(t.id, 'start'),
      onParams: (t) => note(t.id, 'params'),
      onOperation: (t) => note(t.id, 'operation'),
      onResult: (t) => note(t.id, 'result'),
      onEnd: (t, { status }) => note(t.id, `end ${status}`),
    },
  ]);
  const result = await fiveRequestsWith(counter, () => seen.size);
  expect(result.status.on).toBe(true);
  expect(result.lane).toBe(4); // the first request admits the document; the lane answers the other four
  expect(result.probe).toBe(5);
  expect([...seen.values()]).toEqual(Array(5).fill(['start', 'params', 'operation', 'result', 'end 200']));
});
