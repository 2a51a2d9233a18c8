// Two gateway processes on one redis-server and one upstream, as behind a load balancer: a key
// sent to both at once is one POST; an instance killed mid-call leaves an unknown outcome that
// the other answers without posting; an APQ hash registered on one runs on the other.

import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { useTwoGatewaysOnRedis } from '../support/gateway-process.js';
import { eventually } from '../support/operations.js';
import { KEYED_ADD, codedError, expectOnePostForOneKey, keyedAdd, newKey, redisAvailable } from './keyed.js';

const UPSTREAM_TIMEOUT_MS = 1000;

describe.skipIf(!redisAvailable)('two instances on one Redis', () => {
  const fx = useTwoGatewaysOnRedis({ UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS), UPSTREAM_QUEUE_TIMEOUT_MS: '500', REDIS_TIMEOUT_MS: '300' });

  test('the same key sent to both at once: exactly one POST, both answers equal', async () => {
    const { upstream, a, b } = fx;
    await expectOnePostForOneKey(upstream, a, b);
  });

  test('an APQ hash registered through one instance runs on the other', async () => {
    const { upstream, a, b } = fx;
    upstream.reset();
    const hash = createHash('sha256').update(KEYED_ADD).digest('hex');
    const variables = { ambassadorId: '7', input: { points: 1, score: 1 } };
    const persistedQuery = { version: 1, sha256Hash: hash };
    const unknown = await b.graphql({ variables, extensions: { persistedQuery } });
    expect(unknown.body.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const registered = await a.graphql({ query: KEYED_ADD, variables, extensions: { persistedQuery } });
    expect(registered.body.data.addChallengeHistory.__typename).toBe('AddChallengeHistorySuccess');
    const byHash = await b.graphql({ variables, extensions: { persistedQuery } });
    expect(byHash.body.data.addChallengeHistory.__typename).toBe('AddChallengeHistorySuccess');
    expect(upstream.requests).toHaveLength(2);
  });

  test('kill -9 the instance holding a slow call: the other answers OUTCOME_UNKNOWN once the mark expires, and never posts', async () => {
    const { upstream, a, b } = fx;
    upstream.reset();
    upstream.respondWith(() => new Promise(() => {})); // never answers: the call is in flight when its instance dies
    const key = newKey();
    const dying = keyedAdd(a, key).catch(() => null);
    await eventually(() => upstream.requests.length === 1);
    await a.kill();
    await dying;
    // While the mark lives the repeat waits; then it answers the unknown outcome.
    const repeat = await keyedAdd(b, key);
    expect(codedError(repeat)).toEqual({ code: 'OUTCOME_UNKNOWN', outcomeUnknown: true });
    const again = await keyedAdd(b, key);
    expect(codedError(again)).toEqual({ code: 'OUTCOME_UNKNOWN', outcomeUnknown: true });
    expect(upstream.requests).toHaveLength(1);
  });
});
