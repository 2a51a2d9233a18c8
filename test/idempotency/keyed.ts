// The keyed award as the idempotency tests send it, and the stores they run against.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { startGateway } from '../support/gateway.js';
import type { GraphQLResponse, TestGateway } from '../support/gateway.js';
import { hasRedisServer, startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { startScriptableUpstream } from '../support/scriptable-upstream.js';
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

/** The coded error of a single-field answer, or null when the field resolved. */
export function codedError(response: GraphQLResponse): Record<string, unknown> | null {
  return response.body.errors?.[0]?.extensions ?? null;
}

export interface StoreUnderTest {
  name: 'memory' | 'redis';
  /** Environment a gateway on this store needs (REDIS_URL, a prefix of its own). */
  env(): Record<string, string>;
  redis: TestRedis | null;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The two stores every contract line runs against. */
export const STORES: StoreUnderTest[] = [
  { name: 'memory', env: () => ({}), redis: null, start: async () => {}, stop: async () => {} },
  {
    name: 'redis',
    redis: null,
    env() {
      return { REDIS_URL: this.redis!.url, REDIS_KEY_PREFIX: `test-${randomUUID()}:`, REDIS_TIMEOUT_MS: '300' };
    },
    async start() {
      this.redis = await startRedis();
    },
    async stop() {
      await this.redis?.stop();
    },
  },
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
