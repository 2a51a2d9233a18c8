// addChallengeHistory end to end: the gateway on a real socket, talking to the scriptable
// upstream on loopback. Asserts on what the upstream received and what the client got.

import { beforeEach, describe, expect, test } from 'vitest';
import { startGateway, TEST_TOKEN, useGatewayOn } from '../support/gateway.js';
import { challengeHistoryBody, startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptedResponse } from '../support/scriptable-upstream.js';

const FULL_SELECTION = /* GraphQL */ `
  mutation Add($ambassadorId: ID!, $input: AddChallengeHistoryInput!) {
    addChallengeHistory(ambassadorId: $ambassadorId, input: $input) {
      __typename
      ... on AddChallengeHistorySuccess {
        challengeHistory {
          id message score points createdAt updatedAt
          ambassador {
            id image fullName username description status availability unavailable isAbsent absentMsg
            fbAccount twitterAccount instagramAccount linkedInAccount youtubeAccount online lastActionDate
          }
          challenge {
            id points proportionalPoints nbWins
            titles { id lang langCode content }
            images { id lang langCode content }
            descriptions { id lang langCode content }
            title titleFr: title(lang: FR_FR) titleEs: title(lang: ES_ES)
            description image
          }
        }
      }
      ... on Error { message }
      ... on AmbassadorNotFoundError { ambassadorId }
      ... on ValidationError { fieldErrors { field path messages } }
    }
  }
`;

const TYPENAME_ONLY = /* GraphQL */ `
  mutation Add($ambassadorId: ID!, $input: AddChallengeHistoryInput!) {
    addChallengeHistory(ambassadorId: $ambassadorId, input: $input) {
      __typename
      ... on AddChallengeHistorySuccess { challengeHistory { id } }
      ... on Error { message }
      ... on AmbassadorNotFoundError { ambassadorId }
      ... on ValidationError { fieldErrors { field path messages } }
    }
  }
`;

const VALID_INPUT = { points: 42, score: 12.5, message: 'well done', challengeId: '3' };

const { upstream, gw } = useGatewayOn(startScriptableUpstream, { UPSTREAM_TIMEOUT_MS: '1000' });
beforeEach(() => upstream.reset());

function add(variables: { ambassadorId: string; input: Record<string, unknown> }, options?: { token?: string | null }) {
  return gw.graphql({ query: FULL_SELECTION, variables }, options);
}

describe('success', () => {
  test('sends the documented request and maps every field of the answer', async () => {
    const res = await add({ ambassadorId: '7', input: VALID_INPUT });

    expect(upstream.requests).toHaveLength(1);
    const sent = upstream.requests[0]!;
    expect(sent.method).toBe('POST');
    expect(sent.url).toBe('/api/v2/manager/ambassadors/7/challenge-histories');
    expect(sent.headers.authorization).toBe(`Bearer ${TEST_TOKEN}`);
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.headers.accept).toBe('application/json');
    // numbers as JSON numbers, snake_case keys, nothing else
    expect(sent.body).toBe('{"points":42,"score":12.5,"message":"well done","challenge_id":3}');

    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.addChallengeHistory).toEqual({
      __typename: 'AddChallengeHistorySuccess',
      challengeHistory: {
        id: '42',
        message: 'well done',
        score: 12.5,
        points: 42,
        createdAt: '2025-05-04T09:42:00.000Z',
        updatedAt: '2025-05-04T09:43:00.000Z',
        ambassador: {
          id: '7',
          image: 'https://cdn.example.test/a/7.png',
          fullName: 'Ada Lovelace',
          username: 'ada',
          description: 'Paris store',
          status: 1,
          availability: 'weekends',
          unavailable: false,
          isAbsent: true,
          absentMsg: 'Back soon',
          fbAccount: 'ada.fb',
          twitterAccount: 'ada_tw',
          instagramAccount: 'ada.ig',
          linkedInAccount: 'ada-li',
          youtubeAccount: 'ada-yt',
          online: true,
          lastActionDate: '2025-05-04 09:40:00',
        },
        challenge: {
          id: '3',
          points: 42.5,
          proportionalPoints: true,
          nbWins: 9,
          titles: [
            { id: '1', lang: 'EN_GB', langCode: 'en_GB', content: 'Hello' },
            { id: '2', lang: 'FR_FR', langCode: 'fr_FR', content: 'Bonjour' },
          ],
          images: [{ id: '3', lang: 'EN_GB', langCode: 'en_GB', content: 'https://cdn.example.test/c/3.png' }],
          descriptions: [{ id: '4', lang: 'DE_DE', langCode: 'de_DE', content: 'Hallo' }],
          title: 'Hello',
          titleFr: 'Bonjour',
          titleEs: 'Hello', // no es_ES: falls back to en_GB
          description: 'Hallo', // no en_GB: falls back to the first
          image: 'https://cdn.example.test/c/3.png',
        },
      },
    });
  });

  test.each([
    ['omitted', { points: 1, score: 2 }],
    ['null', { points: 1, score: 2, message: null, challengeId: null }],
  ])('message and challenge_id %s are not sent', async (_label, input) => {
    await add({ ambassadorId: '7', input });
    expect(upstream.requests[0]!.json).toEqual({ points: 1, score: 2 });
  });

  test('an inline literal id and fractional points travel as numbers', async () => {
    const res = await gw.graphql({
      query: `mutation { addChallengeHistory(ambassadorId: 12, input: {points: 0.5, score: -3, challengeId: 2147483647}) { __typename } }`,
    });
    expect(res.body.data.addChallengeHistory.__typename).toBe('AddChallengeHistorySuccess');
    expect(upstream.requests[0]!.url).toBe('/api/v2/manager/ambassadors/12/challenge-histories');
    expect(upstream.requests[0]!.json).toEqual({ points: 0.5, score: -3, challenge_id: 2147483647 });
  });
});

describe('a 200 that deviates from the spec is still a success, with no errors entry', () => {
  test.each<[string, Record<string, unknown>, (history: any) => void]>([
    [
      'missing and null fields',
      { id: 5, ambassador: { id_ambassador: 7 }, challenge: { id: 3, titles: null }, message: null }, // the whole body
      (h) => {
        expect(h).toMatchObject({ id: '5', message: null, score: null, points: null, createdAt: null, updatedAt: null });
        expect(h.ambassador).toMatchObject({ id: '7', fullName: null, online: null, linkedInAccount: null });
        expect(h.challenge).toMatchObject({ id: '3', titles: [], images: [], descriptions: [], title: null, nbWins: null });
      },
    ],
    [
      'a language code outside Locale',
      challengeHistoryBody({ challenge: { id: 3, titles: [{ id_i18n_content: 1, lang: 'it_IT', content: 'Ciao' }] } }),
      (h) => {
        expect(h.challenge.titles).toEqual([{ id: '1', lang: null, langCode: 'it_IT', content: 'Ciao' }]);
        expect(h.challenge.title).toBe('Ciao');
      },
    ],
    [
      'wrong types and unparseable dates',
      challengeHistoryBody({
        points: '17.50',
        score: 'lots',
        created_at: 'yesterday',
        updated_at: '2025-05-04 09:42:00',
        ambassador: { id_ambassador: '7', online: 1, status: 'x' },
      }),
      (h) => {
        expect(h).toMatchObject({ points: 17.5, score: null, createdAt: null, updatedAt: '2025-05-04T09:42:00.000Z' });
        expect(h.ambassador).toMatchObject({ id: '7', online: true, status: null });
      },
    ],
    [
      'nested objects without ids take the ids the gateway sent',
      challengeHistoryBody({ ambassador: { full_name: 'No Id' }, challenge: { titles: [] } }),
      (h) => {
        expect(h.ambassador).toMatchObject({ id: '7', fullName: 'No Id' });
        expect(h.challenge).toMatchObject({ id: '3' });
      },
    ],
    [
      'nested objects missing altogether',
      challengeHistoryBody({ ambassador: null, challenge: 'nope' }),
      (h) => {
        expect(h.ambassador).toBeNull();
        expect(h.challenge).toBeNull();
      },
    ],
  ])('%s', async (_label, body, check) => {
    upstream.respondWith({ status: 200, body });
    const res = await add({ ambassadorId: '7', input: VALID_INPUT });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.addChallengeHistory.__typename).toBe('AddChallengeHistorySuccess');
    check(res.body.data.addChallengeHistory.challengeHistory);
  });

  test('201 with a record is a success too', async () => {
    upstream.respondWith({ status: 201, body: challengeHistoryBody() });
    const res = await add({ ambassadorId: '7', input: VALID_INPUT });
    expect(res.body.data.addChallengeHistory.__typename).toBe('AddChallengeHistorySuccess');
  });
});

describe('no usable token: UNAUTHENTICATED without calling the upstream', () => {
  test.each<[string, Record<string, string>]>([
    ['no Authorization header', {}],
    ['another scheme', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
    ['an empty Bearer', { authorization: 'Bearer ' }],
    ['a bare scheme', { authorization: 'Bearer' }],
  ])('%s', async (_label, headers) => {
    const res = await gw.graphql({ query: FULL_SELECTION, variables: { ambassadorId: '7', input: VALID_INPUT } }, { token: null, ...{ headers } });
    expect(res.status).toBe(200);
    expect(res.body.data).toBeNull();
    expect(res.body.errors).toHaveLength(1);
    // Like every mutation error it says whether the award may exist: no, nothing was sent.
    expect(res.body.errors[0]).toMatchObject({ path: ['addChallengeHistory'], extensions: { code: 'UNAUTHENTICATED', outcomeUnknown: false } });
    expect(upstream.requests).toHaveLength(0);
  });

  test('introspection needs no token', async () => {
    const res = await gw.graphql({ query: '{ __schema { mutationType { name } } }' }, { token: null });
    expect(res.body).toEqual({ data: { __schema: { mutationType: { name: 'Mutation' } } } });
  });
});

describe('ids are checked before any upstream call', () => {
  test.each(['abc', '-1', '0', '1/../../x', '99999999999', '2147483648', '1e3', ' 7', '07', ''])(
    'ambassadorId %j is a ValidationError on ["ambassadorId"]',
    async (ambassadorId) => {
      const res = await add({ ambassadorId, input: VALID_INPUT });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.addChallengeHistory).toMatchObject({
        __typename: 'ValidationError',
        fieldErrors: [{ field: 'id', path: ['ambassadorId'], messages: [expect.stringContaining('positive integer')] }],
      });
      expect(upstream.requests).toHaveLength(0);
    },
  );

  test.each(['abc', '-1', '1.5', '99999999999'])('challengeId %j is a ValidationError on ["input","challengeId"]', async (challengeId) => {
    const res = await add({ ambassadorId: '7', input: { ...VALID_INPUT, challengeId } });
    expect(res.body.data.addChallengeHistory).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ field: 'challenge_id', path: ['input', 'challengeId'] }],
    });
    expect(upstream.requests).toHaveLength(0);
  });

  // A literal beyond the double range parses to ±Infinity in graphql-js; JSON would send it as null.
  test.each([
    ['points', 'points: 1e400, score: 1'],
    ['points', 'points: -1e400, score: 1'],
    ['score', 'points: 1, score: 1e309'],
  ])('a non-finite %s literal (%s) is a ValidationError on its path, never sent', async (field, literal) => {
    const res = await gw.graphql({
      query: `mutation { addChallengeHistory(ambassadorId: "7", input: { ${literal} }) { __typename ... on ValidationError { fieldErrors { field path messages } } } }`,
    });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.addChallengeHistory).toEqual({
      __typename: 'ValidationError',
      fieldErrors: [{ field, path: ['input', field], messages: [`${field} must be a finite number.`] }],
    });
    expect(upstream.requests).toHaveLength(0);
  });

  test('both bad ids are reported together', async () => {
    const res = await add({ ambassadorId: 'x', input: { ...VALID_INPUT, challengeId: 'y' } });
    expect(res.body.data.addChallengeHistory.fieldErrors.map((f: { field: string }) => f.field)).toEqual(['id', 'challenge_id']);
  });
});

describe('documented refusals become typed results', () => {
  test('404 -> AmbassadorNotFoundError with the id', async () => {
    upstream.respondWith({ status: 404, body: 'Not found' });
    const res = await add({ ambassadorId: '404', input: VALID_INPUT });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.addChallengeHistory).toEqual({
      __typename: 'AmbassadorNotFoundError',
      message: 'Ambassador 404 does not exist.',
      ambassadorId: '404',
    });
  });

  test('422 Laravel body -> ValidationError with every key and message mapped to its argument', async () => {
    upstream.respondWith({
      status: 422,
      body: {
        message: 'The points field must be at least 0. (and 4 more errors)',
        errors: {
          points: ['The points field must be at least 0.'],
          challenge_id: ['The selected challenge id is invalid.', 'The challenge is closed.'],
          id: ['The ambassador is archived.'],
          message: ['The message field must not be greater than 255 characters.'],
          team: ['Unknown team.'],
        },
      },
    });
    const res = await add({ ambassadorId: '7', input: VALID_INPUT });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.addChallengeHistory).toEqual({
      __typename: 'ValidationError',
      message: 'The points field must be at least 0. (and 4 more errors)',
      fieldErrors: [
        { field: 'points', path: ['input', 'points'], messages: ['The points field must be at least 0.'] },
        { field: 'challenge_id', path: ['input', 'challengeId'], messages: ['The selected challenge id is invalid.', 'The challenge is closed.'] },
        { field: 'id', path: ['ambassadorId'], messages: ['The ambassador is archived.'] },
        { field: 'message', path: ['input', 'message'], messages: ['The message field must not be greater than 255 characters.'] },
        { field: 'team', path: null, messages: ['Unknown team.'] },
      ],
    });
  });

  test.each<[string, ScriptedResponse]>([
    ['an HTML body', { status: 422, body: '<html>Unprocessable</html>', headers: { 'content-type': 'text/html' } }],
    ['an empty body', { status: 422 }],
    ['JSON without errors', { status: 422, body: { message: 'nope' } }],
  ])('422 with %s is still a ValidationError, with the status text and no fieldErrors', async (_label, response) => {
    upstream.respondWith(response);
    const res = await add({ ambassadorId: '7', input: VALID_INPUT });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.addChallengeHistory).toEqual({
      __typename: 'ValidationError',
      message: 'Unprocessable Entity',
      fieldErrors: [],
    });
  });
});

describe('everything else is a coded GraphQL error on the field', () => {
  const cases: [string, ScriptedResponse, Record<string, unknown>][] = [
    ['401', { status: 401, body: { message: 'Unauthorized.' } }, { code: 'UNAUTHENTICATED', outcomeUnknown: false }],
    ['403', { status: 403, body: "Forbidden - You don't have permission to access this route" }, { code: 'FORBIDDEN', outcomeUnknown: false }],
    ['429 without Retry-After', { status: 429 }, { code: 'RATE_LIMITED', outcomeUnknown: false }],
    ['429 with Retry-After seconds', { status: 429, headers: { 'retry-after': '30' } }, { code: 'RATE_LIMITED', outcomeUnknown: false, retryAfter: 30 }],
    ['500', { status: 500, body: 'Internal Server Error' }, { code: 'UPSTREAM_UNAVAILABLE', outcomeUnknown: true }],
    ['503', { status: 503, body: { message: 'down' } }, { code: 'UPSTREAM_UNAVAILABLE', outcomeUnknown: true }],
    ['a reset before the response', { reset: 'before-response' }, { code: 'UPSTREAM_UNAVAILABLE', outcomeUnknown: true }],
    ['a reset half-way through the body', { reset: 'mid-body', body: challengeHistoryBody() }, { code: 'UPSTREAM_UNAVAILABLE', outcomeUnknown: true }],
    ['no answer within UPSTREAM_TIMEOUT_MS', { delayMs: 3000, body: challengeHistoryBody() }, { code: 'UPSTREAM_TIMEOUT', outcomeUnknown: true }],
    ['a 302', { status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' } }, { code: 'BAD_UPSTREAM_RESPONSE', outcomeUnknown: true }],
    ['a 200 with HTML', { status: 200, body: '<html>ok</html>', headers: { 'content-type': 'text/html' } }, { code: 'BAD_UPSTREAM_RESPONSE', outcomeUnknown: true }],
    ['a 200 with truncated JSON', { status: 200, body: '{"id": 4' }, { code: 'BAD_UPSTREAM_RESPONSE', outcomeUnknown: true }],
    ['a 200 with null', { status: 200, body: 'null' }, { code: 'BAD_UPSTREAM_RESPONSE', outcomeUnknown: true }],
    ['a 200 with an array', { status: 200, body: [challengeHistoryBody()] }, { code: 'BAD_UPSTREAM_RESPONSE', outcomeUnknown: true }],
    ['a 200 without a record id', { status: 200, body: challengeHistoryBody({ id: null }) }, { code: 'BAD_UPSTREAM_RESPONSE', outcomeUnknown: true }],
    ['a 204 with no body', { status: 204 }, { code: 'BAD_UPSTREAM_RESPONSE', outcomeUnknown: true }],
  ];

  test.each(cases)('%s', async (label, response, extensions) => {
    upstream.respondWith(response);
    // Each case its own caller: one answered 429 with Retry-After is refused locally until then.
    const res = await add({ ambassadorId: '7', input: VALID_INPUT }, { token: `field-error-case-${label.replace(/\W+/g, '-')}-0123456789` });
    expect(res.status).toBe(200);
    expect(res.body.data).toBeNull(); // the field is non-null: its error nulls data
    expect(res.body.errors).toHaveLength(1);
    const [error] = res.body.errors;
    expect(error.path).toEqual(['addChallengeHistory']);
    expect(error.extensions).toEqual(extensions);
    if (extensions.outcomeUnknown) expect(error.message).toMatch(/may have been recorded/);
    expect(upstream.requests).toHaveLength(1); // never retried
    assertNoLeak(JSON.stringify(res.body));
  });

  test('connection refused: UPSTREAM_UNAVAILABLE, and nothing was sent so the outcome is known', async () => {
    const closed = await startScriptableUpstream();
    const url = closed.url;
    await closed.close();
    const isolated = await startGateway({ upstreamUrl: url });
    try {
      const res = await isolated.graphql({ query: TYPENAME_ONLY, variables: { ambassadorId: '7', input: VALID_INPUT } });
      expect(res.body.errors[0].extensions).toEqual({ code: 'UPSTREAM_UNAVAILABLE', outcomeUnknown: false });
      assertNoLeak(JSON.stringify(res.body), url.origin);
    } finally {
      await isolated.close();
    }
  });

  test('Retry-After as an HTTP date becomes whole seconds', async () => {
    upstream.respondWith({ status: 429, headers: { 'retry-after': new Date(Date.now() + 120_000).toUTCString() } });
    const res = await add({ ambassadorId: '7', input: VALID_INPUT }, { token: 'http-date-retry-after-token-0123456789' });
    expect(res.body.errors[0].extensions.retryAfter).toBeGreaterThanOrEqual(118);
    expect(res.body.errors[0].extensions.retryAfter).toBeLessThanOrEqual(120);
  });
});

describe('nothing internal leaks', () => {
  test('the token appears in no log line, even when calls fail', async () => {
    const marker = 'leak-check-token-9c1e77';
    upstream.queue({ status: 200, body: challengeHistoryBody() }, { status: 500 }, { status: 401 }, { reset: 'before-response' });
    for (let i = 0; i < 4; i++) {
      await add({ ambassadorId: '7', input: VALID_INPUT }, { token: marker });
    }
    await gw.graphql({ query: '{ nope }' }, { token: marker }); // a request error too
    expect(upstream.requests.map((r) => r.headers.authorization)).toEqual(Array(4).fill(`Bearer ${marker}`));
    expect(gw.logs.length).toBeGreaterThan(0);
    for (const line of gw.logs) expect(line).not.toContain(marker);
  });

  test('a malformed variable is a clear request error without internals', async () => {
    const res = await gw.graphql({ query: TYPENAME_ONLY, variables: { ambassadorId: '7', input: { points: 'x', score: 1 } } });
    expect(res.status).toBe(400); // a request error, per GraphQL over HTTP
    expect(res.body.errors[0].message).toMatch(/Float/);
    expect(upstream.requests).toHaveLength(0);
    assertNoLeak(JSON.stringify(res.body));
  });
});

function assertNoLeak(text: string, origin = upstream.origin): void {
  expect(text).not.toContain(TEST_TOKEN);
  expect(text).not.toContain(origin);
  expect(text).not.toContain('127.0.0.1');
  expect(text).not.toMatch(/\bat .+\.(ts|js):\d+/); // stack frames
  expect(text).not.toContain('stacktrace');
}
