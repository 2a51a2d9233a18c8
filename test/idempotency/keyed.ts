// The keyed award as the idempotency tests send it, and the stores they run against.

import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect } from 'vitest';
import { startGateway } from '../support/gateway.js';
import type { GraphQLResponse, TestGateway } from '../support/gateway.js';
import { hasRedisServer, startRedis } from '../support/redis.js';
import { redisCommand, startRedisCluster, startRedisSentinel } from '../support/redis-topology.js';
import type { TestRedis } from '../support/redis.js';
import { eventually, gate } from '../support/operations.js';
import { challengeHistoryBody, startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream } from '../support/scriptable-upstream.js';

export const KEYED_ADD = /* GraphQL */ `
  mutation KeyedAdd($ambassadorId: ID!, $input: AddChallengeHistoryInput!) {
    addChallengeHistory(ambassadorId: $ambassadorId, input: $input) {
      __typename
      ... on AddChallengeHistorySuccess {
        replayed
        challengeHistory { id points score message createdAt ambassador { id fullName } challenge { id title } }
      }
      ... on ValidationError { fieldErrors { field path messages } }
      ... on Error { message }
    }
  }
`;

export const AWARD = { points: 42, score: 12.5, message: 'well done', challengeId: '3' };

export interface KeyedOptions {
  ambassadorId?: string | number;
  input?: Record<string, unknown>;
  token?: string | null;
}

/** Sends the award with `key` (null: none). */
export function keyedAdd(gw: Pick<TestGateway, 'graphql'>, key: string | null, { ambassadorId = '7', input = {}, token }: KeyedOptions = {}) {
  return gw.graphql(
    { query: KEYED_ADD, variables: { ambassadorId, input: { ...AWARD, ...input, ...(key === null ? {} : { idempotencyKey: key }) } } },
    token === undefined ? {} : { token },
  );
}

export const newKey = () => randomUUID();

/**
 * A keyed award retried, as a client does, while the store refuses it unsent
 * (IDEMPOTENCY_STORE_UNAVAILABLE: a Redis command slower than REDIS_TIMEOUT_MS on a loaded
 * machine); at most five tries. Requires the award to be served in the end.
 */
export async function keyedAddServed(gw: Pick<TestGateway, 'graphql'>, key: string, options: KeyedOptions = {}): Promise<GraphQLResponse> {
  for (let attempt = 1; ; attempt++) {
    const res = await keyedAdd(gw, key, options);
    const error = codedError(res);
    if (error?.code !== 'IDEMPOTENCY_STORE_UNAVAILABLE' || attempt === 5) {
      expect(error, JSON.stringify(res.body)).toBeNull();
      return res;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The coded error of a single-field answer, or null when the field resolved. */
export function codedError(response: GraphQLResponse): Record<string, unknown> | null {
  return response.body.errors?.[0]?.extensions ?? null;
}

export interface StoreUnderTest {
  name: 'memory' | 'redis' | 'redis-cluster' | 'redis-sentinel';
  /** Environment a gateway on this store needs (its Redis variables, a prefix of its own). */
  env(): Record<string, string>;
  redis: TestRedis | null;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Keys under this store's prefix, on every master (0 for memory): proof the gateway writes where the test thinks. */
  storedKeys(): Promise<number>;
}

/** A Redis topology as a store under test: started once per file, a key prefix of its own. */
function redisStore(name: StoreUnderTest['name'], start: () => Promise<{ env(): Record<string, string>; ports(): Promise<number[]>; stop(): Promise<void> }>): StoreUnderTest {
  let topology: Awaited<ReturnType<typeof start>> | null = null;
  const prefix = `test-${randomUUID()}:`;
  return {
    name,
    redis: null,
    // 1 s: on a loaded two-core CI a slower command must not become a refusal the test did not ask for.
    env: () => ({ ...topology!.env(), REDIS_KEY_PREFIX: prefix, REDIS_TIMEOUT_MS: '1000' }),
    async start() {
      topology = await start();
    },
    async stop() {
      await topology?.stop();
    },
    async storedKeys() {
      const counts = await Promise.all((await topology!.ports()).map(async (port) => (await redisCommand(port, 'KEYS', `${prefix}*`)).split('\n').filter(Boolean).length));
      return counts.reduce((a, b) => a + b, 0);
    },
  };
}

/** The stores every contract line runs against: memory, one redis-server, a 3-master Cluster, a Sentinel group. */
export const STORES: StoreUnderTest[] = [
  { name: 'memory', env: () => ({}), redis: null, start: async () => {}, stop: async () => {}, storedKeys: async () => 0 },
  redisStore('redis', async () => {
    const redis = await startRedis();
    return { env: () => ({ REDIS_URL: redis.url }), ports: async () => [redis.port], stop: () => redis.stop() };
  }),
  redisStore('redis-cluster', async () => {
    const cluster = await startRedisCluster();
    return { env: cluster.env, ports: async () => cluster.masters.map((m) => m.port), stop: cluster.stop };
  }),
  redisStore('redis-sentinel', async () => {
    const sentinel = await startRedisSentinel({ replicas: 1 });
    return { env: sentinel.env, ports: async () => [await sentinel.announcedMasterPort()], stop: sentinel.stop };
  }),
];

export const redisAvailable = await hasRedisServer();
if (!redisAvailable) console.warn('redis-server is not installed (.ci/run installs it): the Redis store tests are skipped');

export function startKeyedGateway(upstreamUrl: URL, env: Record<string, string>): Promise<TestGateway> {
  return startGateway({ upstreamUrl, env: { UPSTREAM_TIMEOUT_MS: '1000', ...env } });
}

/** A redis-server, a scriptable upstream and a gateway on both, for the tests of one describe block. */
export function useRedisGateway(env: Record<string, string> = {}): { redis: TestRedis; upstream: ScriptableUpstream; gw: TestGateway } {
  const fixture = {} as { redis: TestRedis; upstream: ScriptableUpstream; gw: TestGateway };
  beforeAll(async () => {
    fixture.redis = await startRedis();
    fixture.upstream = await startScriptableUpstream();
    fixture.gw = await startKeyedGateway(fixture.upstream.url, { REDIS_URL: fixture.redis.url, ...env });
  });
  afterAll(async () => {
    await fixture.gw?.close();
    await fixture.upstream?.close();
    await fixture.redis?.stop();
  });
  return fixture;
}

/**
 * A redis-server, a scriptable upstream and two gateways on both (two instances sharing the store),
 * with an admin client to the redis-server, for the tests of one describe block.
 */
export function useTwoRedisGateways(env: Record<string, string> = {}): {
  redis: TestRedis;
  admin: Redis;
  upstream: ScriptableUpstream;
  first: TestGateway;
  second: TestGateway;
} {
  const fixture = {} as { redis: TestRedis; admin: Redis; upstream: ScriptableUpstream; first: TestGateway; second: TestGateway };
  beforeAll(async () => {
    fixture.redis = await startRedis();
    // Commands wait through a restart of the redis-server rather than fail.
    fixture.admin = new Redis(fixture.redis.url, { maxRetriesPerRequest: null });
    fixture.upstream = await startScriptableUpstream();
    fixture.first = await startKeyedGateway(fixture.upstream.url, { REDIS_URL: fixture.redis.url, ...env });
    fixture.second = await startKeyedGateway(fixture.upstream.url, { REDIS_URL: fixture.redis.url, ...env });
  });
  afterAll(async () => {
    fixture.admin?.disconnect();
    await fixture.first?.close();
    await fixture.second?.close();
    await fixture.upstream?.close();
    await fixture.redis?.stop();
  });
  return fixture;
}

/** The upstream holds each award's answer (201, `body`) until the returned gate opens. */
export function holdAwards(upstream: ScriptableUpstream, body: unknown = challengeHistoryBody()): ReturnType<typeof gate> {
  const answer = gate();
  upstream.respondWith(async () => {
    await answer.opened;
    return { status: 201, body };
  });
  return answer;
}

/**
 * One key sent to two instances at once, twice each, while the upstream holds its answer: exactly
 * one POST, four equal answers, one of them not a replay. Answers the key.
 */
export async function expectOnePostForOneKey(upstream: ScriptableUpstream, a: Pick<TestGateway, 'graphql'>, b: Pick<TestGateway, 'graphql'>): Promise<string> {
  upstream.reset();
  const answer = holdAwards(upstream, challengeHistoryBody({ id: 4242 }));
  const key = newKey();
  const both = [keyedAdd(a, key), keyedAdd(b, key), keyedAdd(a, key), keyedAdd(b, key)];
  await eventually(() => upstream.requests.length === 1);
  answer.open();
  const results = (await Promise.all(both)).map((r) => r.body.data.addChallengeHistory);
  expect(upstream.requests).toHaveLength(1);
  expect(results.map((r) => r.challengeHistory.id)).toEqual(['4242', '4242', '4242', '4242']);
  expect(results.filter((r) => !r.replayed)).toHaveLength(1);
  return key;
}
