// A frontend's dev server on this machine calls the sandbox with no setting: `npm start` without
// UPSTREAM_URL answers CORS to http://localhost:*, http://127.0.0.1:* and http://[::1]:*, and to
// nothing else unless CORS_ORIGINS lists it. A gateway with an upstream allows loopback origins
// only when listed.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SANDBOX_TOKENS } from '../../src/sandbox/index.js';
import { startGateway } from '../support/gateway.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import type { GatewayProcess } from '../support/gateway-process.js';
import { startScriptableUpstream } from '../support/scriptable-upstream.js';

const VITE = 'http://127.0.0.1:5173';
const ADD = `mutation Add($input: AddChallengeHistoryInput!) {
  addChallengeHistory(ambassadorId: "1", input: $input) { __typename ... on AddChallengeHistorySuccess { replayed challengeHistory { points } } }
}`;

const preflight = (url: URL, origin: string, headers = 'content-type, authorization, idempotency-key') =>
  fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': headers } });

const post = (url: URL, origin: string, extra: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json', authorization: `Bearer ${SANDBOX_TOKENS.manager}`, ...extra },
    body: JSON.stringify({ query: ADD, variables: { input: { points: 5, score: 1 } } }),
  });

describe('the sandbox (npm start without UPSTREAM_URL)', () => {
  let sandbox: GatewayProcess;
  beforeAll(async () => {
    sandbox = await startGatewayProcess({});
  }, 90_000);
  afterAll(() => sandbox?.close());

  test(`a Vite page on ${VITE}: the preflight allows the POST, its headers and Idempotency-Key`, async () => {
    const response = await preflight(sandbox.url, VITE);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(VITE);
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    expect(response.headers.get('access-control-allow-headers')!.split(/,\s*/)).toEqual(
      expect.arrayContaining(['content-type', 'authorization', 'idempotency-key']),
    );
    expect(response.headers.get('vary')).toContain('Origin');
  });

  test(`a Vite page on ${VITE}: the real cross-origin POST is answered, readable, with Idempotent-Replayed exposed`, async () => {
    const key = `"${crypto.randomUUID()}"`;
    const first = await post(sandbox.url, VITE, { 'idempotency-key': key });
    expect(first.status).toBe(200);
    expect(first.headers.get('access-control-allow-origin')).toBe(VITE);
    expect(await first.json()).toEqual({
      data: { addChallengeHistory: { __typename: 'AddChallengeHistorySuccess', replayed: false, challengeHistory: { points: 5 } } },
    });
    const again = await post(sandbox.url, VITE, { 'idempotency-key': key });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('access-control-expose-headers')!.split(/,\s*/)).toEqual(expect.arrayContaining(['idempotent-replayed', 'x-request-id']));
  });

  test.each(['http://localhost:3000', 'http://[::1]:8080', 'http://127.0.0.1'])('%s is allowed too', async (origin) => {
    expect((await post(sandbox.url, origin)).headers.get('access-control-allow-origin')).toBe(origin);
  });

  test.each(['https://evil.example', 'http://localhost.evil.example:5173', 'http://127.0.0.2:5173', 'https://localhost:5173', 'null'])(
    '%s is not allowed',
    async (origin) => {
      expect((await preflight(sandbox.url, origin)).headers.get('access-control-allow-origin')).toBeNull();
      expect((await post(sandbox.url, origin)).headers.get('access-control-allow-origin')).toBeNull();
    },
  );
});

test('with an upstream, loopback origins are not allowed unless CORS_ORIGINS lists them (the Vite example)', async () => {
  const upstream = await startScriptableUpstream();
  const plain = await startGateway({ upstreamUrl: upstream.url });
  const listed = await startGateway({ upstreamUrl: upstream.url, env: { CORS_ORIGINS: 'http://192.168.1.20:5173' } });
  try {
    expect((await preflight(plain.url, VITE)).headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight(listed.url, 'http://192.168.1.20:5173')).headers.get('access-control-allow-origin')).toBe('http://192.168.1.20:5173');
    expect((await preflight(listed.url, VITE)).headers.get('access-control-allow-origin')).toBeNull();
  } finally {
    await Promise.all([plain.close(), listed.close(), upstream.close()]);
  }
});
