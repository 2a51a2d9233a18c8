// In production `_service { sdl }` (the whole schema) answers only a router presenting
// ROUTER_SHARED_SECRET in x-router-secret, and nobody when introspection is off and no secret is
// set; development and test answer anyone. Asked twice, so the fast lane's answer is checked too.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startGateway } from '../support/gateway.js';
import type { GraphQLResponse, TestGateway } from '../support/gateway.js';
import { startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream } from '../support/scriptable-upstream.js';

const SECRET = 'router-secret-0123456789abcdef';
const SDL = { query: '{ _service { sdl } }' };

let upstream: ScriptableUpstream;
beforeAll(async () => {
  upstream = await startScriptableUpstream();
});
afterAll(() => upstream.close());

async function gatewayWith(env: Record<string, string>): Promise<TestGateway> {
  return startGateway({ upstreamUrl: upstream.url, env });
}

const PRODUCTION = { NODE_ENV: 'production' };

function expectRefused(res: GraphQLResponse) {
  expect(res.status).toBe(403);
  expect(res.body.data).toBeUndefined();
  expect(res.body.errors).toHaveLength(1);
  expect(res.body.errors[0].extensions.code).toBe('SERVICE_SDL_FORBIDDEN');
  expect(JSON.stringify(res.body)).not.toContain('addChallengeHistory');
}

const expectSdl = (res: GraphQLResponse) => expect(res.body.data._service.sdl).toContain('addChallengeHistory');

describe('production with ROUTER_SHARED_SECRET', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await gatewayWith({ ...PRODUCTION, ROUTER_SHARED_SECRET: SECRET });
  });
  afterAll(() => gw.close());

  test('the router with the secret gets the SDL; without it, or with another, the request is refused (both paths)', async () => {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      expectSdl(await gw.graphql(SDL, { token: null, headers: { 'x-router-secret': SECRET } }));
      expectRefused(await gw.graphql(SDL, { token: null }));
      expectRefused(await gw.graphql(SDL, { token: null, headers: { 'x-router-secret': `${SECRET}x` } }));
      expectRefused(await gw.graphql(SDL, { token: null, headers: { 'x-router-secret': SECRET.slice(1) } }));
    }
    // Through a fragment and an alias too.
    expectRefused(await gw.graphql({ query: '{ ...F } fragment F on Query { s: _service { sdl } }' }, { token: null }));
    expect(gw.logs.join('\n')).not.toContain(SECRET);
  });
});

test('production, introspection off, no secret: refused to everyone', async () => {
  const gw = await gatewayWith(PRODUCTION);
  try {
    expectRefused(await gw.graphql(SDL, { token: null }));
    expectRefused(await gw.graphql(SDL, { token: null, headers: { 'x-router-secret': SECRET } }));
  } finally {
    await gw.close();
  }
});

test('production with introspection on and no secret, and test mode: answered as before', async () => {
  for (const env of [{ ...PRODUCTION, GRAPHQL_INTROSPECTION: 'true' }, {}]) {
    const gw = await gatewayWith(env);
    try {
      expectSdl(await gw.graphql(SDL, { token: null }));
      expectSdl(await gw.graphql(SDL, { token: null }));
    } finally {
      await gw.close();
    }
  }
});
