// Query.challenge end to end against the scriptable upstream.

import { beforeEach, expect, test } from 'vitest';
import { TEST_TOKEN, useGatewayOn } from '../support/gateway.js';
import { startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptedResponse } from '../support/scriptable-upstream.js';

const CHALLENGE = {
  id: 5,
  start_date: '2026-01-01T00:00:00Z',
  end_date: '2026-06-30T23:59:59+02:00',
  active: true,
  challengeable_type: 'order',
  challengeable: { order_attribution: 'coupon', product_sku: 'SKU-1' },
  points: 100,
  proportional_points: false,
  titles: [
    { id_i18n_content: 1, lang: 'fr_FR', content: 'Bonjour' },
    { id_i18n_content: 2, lang: 'en_GB', content: 'Hello' },
  ],
  images: [],
  descriptions: [{ id_i18n_content: 3, lang: 'es_ES', content: 'Hola' }],
};

const QUERY = /* GraphQL */ `
  query ($id: ID!) {
    challenge(id: $id) {
      id startDate endDate active challengeableType challengeable points proportionalPoints nbWins
      title titleFr: title(lang: FR_FR) titleDe: title(lang: DE_DE)
      description descriptionEs: description(lang: ES_ES) image
      titles { id lang langCode content } images { content }
    }
  }
`;

const { upstream, gw } = useGatewayOn(startScriptableUpstream);
beforeEach(() => {
  upstream.reset();
  upstream.respondWith({ status: 200, body: CHALLENGE });
});

test('reads GET /manager/challenges/{id} with the caller token and exposes every field', async () => {
  const res = await gw.graphql({ query: QUERY, variables: { id: '5' } });
  expect(upstream.requests).toHaveLength(1);
  expect(upstream.requests[0]).toMatchObject({ method: 'GET', url: '/api/v2/manager/challenges/5', body: '' });
  expect(upstream.requests[0]!.headers.authorization).toBe(`Bearer ${TEST_TOKEN}`);
  expect(res.body).toEqual({
    data: {
      challenge: {
        id: '5',
        startDate: '2026-01-01T00:00:00.000Z',
        endDate: '2026-06-30T21:59:59.000Z',
        active: true,
        challengeableType: 'order',
        challengeable: { order_attribution: 'coupon', product_sku: 'SKU-1' },
        points: 100,
        proportionalPoints: false,
        nbWins: null,
        title: 'Hello', // no lang: en_GB
        titleFr: 'Bonjour',
        titleDe: 'Hello', // no de_DE: en_GB
        description: 'Hola', // no en_GB: the first
        descriptionEs: 'Hola',
        image: null, // empty list
        titles: [
          { id: '1', lang: 'FR_FR', langCode: 'fr_FR', content: 'Bonjour' },
          { id: '2', lang: 'EN_GB', langCode: 'en_GB', content: 'Hello' },
        ],
        images: [],
      },
    },
  });
});

test('404 is null, without an error', async () => {
  upstream.respondWith({ status: 404, body: 'Not found' });
  const res = await gw.graphql({ query: '{ challenge(id: "77") { id } }' });
  expect(res.body).toEqual({ data: { challenge: null } });
});

test.each<[string, ScriptedResponse, string]>([
  ['401', { status: 401, body: { message: 'Unauthorized.' } }, 'UNAUTHENTICATED'],
  ['403', { status: 403 }, 'FORBIDDEN'],
  ['429', { status: 429, headers: { 'retry-after': '5' } }, 'RATE_LIMITED'],
  ['502', { status: 502 }, 'UPSTREAM_UNAVAILABLE'],
  ['a 200 with HTML', { status: 200, body: '<html></html>' }, 'BAD_UPSTREAM_RESPONSE'],
  ['a 301', { status: 301, headers: { location: '/elsewhere' } }, 'BAD_UPSTREAM_RESPONSE'],
])('%s maps to %s (a read has no outcome to be unknown)', async (label, response, code) => {
  upstream.respondWith(response);
  // Each case its own caller: one answered 429 with Retry-After is refused locally until then.
  const res = await gw.graphql({ query: '{ challenge(id: "5") { id } }' }, { token: `read-case-${label.replace(/\W+/g, '-')}-0123456789` });
  expect(res.body.data).toEqual({ challenge: null });
  expect(res.body.errors[0].extensions.code).toBe(code);
  expect(res.body.errors[0].extensions).not.toHaveProperty('outcomeUnknown');
});

test.each(['abc', '0', '-3', '1/../2', '99999999999'])('id %j is BAD_USER_INPUT without an upstream call', async (id) => {
  const res = await gw.graphql({ query: QUERY, variables: { id } });
  expect(res.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
  expect(upstream.requests).toHaveLength(0);
});

test('no token: UNAUTHENTICATED without an upstream call', async () => {
  const res = await gw.graphql({ query: QUERY, variables: { id: '5' } }, { token: null });
  expect(res.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  expect(upstream.requests).toHaveLength(0);
});
