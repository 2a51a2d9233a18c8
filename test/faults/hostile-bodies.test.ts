// Hostile upstream bodies through the real gateway: a 2xx carrying a record id is always that
// record's success, whatever else the body holds (depth, size, prototype keys, numbers out of
// range, wrong types), on Yoga's path, on the fast lane and inside a batch; a hostile 422 keeps
// every key as a field error, within bounds that count what they leave out.

import { beforeEach, describe, expect, test } from 'vitest';
import { useGatewayOn } from '../support/gateway.js';
import { challengeHistoryBody, startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptedResponse } from '../support/scriptable-upstream.js';

const RESULT = `__typename
  ... on AddChallengeHistorySuccess {
    challengeHistory {
      id points score message createdAt updatedAt
      ambassador { id fullName username status unavailable isAbsent online lastActionDate }
      challenge { id title nbWins points proportionalPoints challengeable challengeableType titles { id lang langCode content } images { id content } }
    }
  }
  ... on Error { message }
  ... on ValidationError { fieldErrors { field path messages } }`;
const SINGLE = `mutation Award($input: AddChallengeHistoryInput!) { addChallengeHistory(ambassadorId: "7", input: $input) { ${RESULT} } }`;
const BATCH = `mutation Batch($items: [AddChallengeHistoryItemInput!]!) { addChallengeHistories(items: $items) { ${RESULT} } }`;

const nested = (levels: number, inner = '1') => '{"a":'.repeat(levels) + inner + '}'.repeat(levels);
const normal = (overrides: Record<string, unknown> = {}) => JSON.stringify(challengeHistoryBody(overrides));
/** The spec body with one nested object's JSON replaced by raw text (for what JSON.stringify cannot write). */
const withRaw = (id: number, key: 'challenge' | 'ambassador', raw: string) => normal({ id, [key]: '@RAW@' }).replace('"@RAW@"', raw);

/** Each body's record id, and its raw JSON text. */
const HOSTILE: [name: string, id: number, body: string][] = [
  ['challengeable nested 5,000 levels', 101, withRaw(101, 'challenge', `{"id":3,"challengeable":${nested(5_000)}}`)],
  ['challengeable nested 200,000 levels', 102, withRaw(102, 'challenge', `{"id":3,"challengeable":${nested(200_000)}}`)],
  ['challengeable of 4 MB nested 2,000,000 levels', 116, withRaw(116, 'challenge', `{"id":3,"challengeable":{"a":${'['.repeat(2_000_000)}${']'.repeat(2_000_000)}}}`)],
  ['challengeable of 1 MB', 103, normal({ id: 103, challenge: { id: 3, challengeable: { blob: 'x'.repeat(1 << 20) } } })],
  ['challengeable with 50,000 keys', 104, normal({ id: 104, challenge: { id: 3, challengeable: Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i])) } })],
  ['Ints beyond int32', 105, normal({ id: 105, ambassador: { id_ambassador: 7, status: 2 ** 31 }, challenge: { id: 3, nb_wins: 2 ** 53, titles: [{ id_i18n_content: 1e20, lang: 'en_GB', content: 'x' }] } })],
  ['negative Ints beyond int32', 106, normal({ id: 106, ambassador: { id_ambassador: 7, status: -(2 ** 31) - 1 }, challenge: { id: 3, nb_wins: -1e15 } })],
  ['numbers beyond float64', 107, normal({ id: 107 }).replace('"points":42,', '"points":1e400,').replace('"score":12.5', '"score":-1e400')],
  ['numbers as huge strings', 108, normal({ id: 108, points: '9'.repeat(400), score: '1e5', challenge: { id: 3, nb_wins: '99999999999' } })],
  ['ids out of range', 109, normal({ id: 109, ambassador: { id_ambassador: 2 ** 40 }, challenge: { id: 2 ** 40 } })],
  [
    'prototype keys at every level',
    110,
    '{"__proto__":{"id":999},"constructor":"x","toString":1,"hasOwnProperty":2,"id":110,' +
      '"ambassador":{"__proto__":null,"valueOf":5,"id_ambassador":7},' +
      '"challenge":{"constructor":{"prototype":1},"id":3,"titles":[{"__proto__":{"content":"x"},"toString":"y"}],"challengeable":{"__proto__":{"a":1},"constructor":2}}}',
  ],
  [
    'wrong types everywhere',
    111,
    normal({ id: 111, message: { a: 1 }, score: true, points: [], created_at: 5, updated_at: {}, ambassador: { id_ambassador: 7, full_name: [1], status: 'high', online: 'yes', unavailable: 2 }, challenge: { id: 3, titles: 'x', images: [null, 1, 's', [], { id_i18n_content: {}, lang: 5, content: [] }], descriptions: {}, challengeable: 'text', nb_wins: {} } }),
  ],
  ['ambassador and challenge of wrong types', 112, normal({ id: 112, ambassador: 'x', challenge: [1, 2] })],
  ['deep arrays in typed fields', 113, withRaw(113, 'ambassador', `{"id_ambassador":7,"full_name":${'['.repeat(5_000)}${']'.repeat(5_000)}}`)],
  ['a duplicated id key', 114, '{"id":1,"id":114}'],
  ['a string id', 115, normal({ id: ' h-115 ' })],
];

const hostileBody = (name: string) => HOSTILE.find(([n]) => n === name)![2];

const { upstream, gw } = useGatewayOn(startScriptableUpstream, { UPSTREAM_TIMEOUT_MS: '2000' });
beforeEach(() => upstream.reset());

const json = (body: string): ScriptedResponse => ({ status: 201, body, headers: { 'content-type': 'application/json' } });

/** Answers the POST whose message is "hostile" with `hostile`, every other one with a normal record numbered by its message. */
function answerWith(hostile: ScriptedResponse): void {
  upstream.respondWith((request) => {
    const { message } = request.json as { message: string };
    return message === 'hostile' ? hostile : json(normal({ id: 1000 + Number(message.replace('item-', '')), message }));
  });
}

async function fastLaneCount(): Promise<number> {
  return (await gw.gateway.metrics.registry.getSingleMetric('gateway_fast_lane_requests_total')!.get()).values[0]?.value ?? 0;
}

/**
 * Sends one document twice: new the first time (Yoga's path), admitted the second (the fast
 * lane). Both answers must be equal; returns the body.
 */
async function bothPaths(name: string, query: string, variables: Record<string, unknown>) {
  const document = `# ${name}\n${query}`;
  const before = await fastLaneCount();
  const yoga = await gw.graphql({ query: document, variables });
  expect(await fastLaneCount()).toBe(before);
  const fast = await gw.graphql({ query: document, variables });
  expect(await fastLaneCount()).toBe(before + 1);
  expect(yoga.status).toBe(200);
  expect(fast.status).toBe(yoga.status);
  expect(fast.body).toEqual(yoga.body);
  return yoga.body;
}

const success = (id: number | string) => expect.objectContaining({ __typename: 'AddChallengeHistorySuccess', challengeHistory: expect.objectContaining({ id: String(id).trim() }) });

describe.each(HOSTILE)('a 2xx with %s', (name, id, body) => {
  const expectedId = name === 'a string id' ? 'h-115' : id;

  test('addChallengeHistory: the record, no errors entry, on both paths', async () => {
    answerWith(json(body));
    const answer = await bothPaths(`single ${name}`, SINGLE, { input: { points: 1, score: 1, message: 'hostile' } });
    expect(answer.errors).toBeUndefined();
    expect(answer.data.addChallengeHistory).toEqual(success(expectedId));
    expect(upstream.requests).toHaveLength(2);
  });

  test('addChallengeHistories: 20 records, the hostile one among them, none lost, on both paths', async () => {
    answerWith(json(body));
    const items = Array.from({ length: 20 }, (_, i) => ({ ambassadorId: '7', input: { points: 1, score: 1, message: i === 7 ? 'hostile' : `item-${i}` } }));
    const answer = await bothPaths(`batch ${name}`, BATCH, { items });
    expect(answer.errors).toBeUndefined();
    expect(answer.data.addChallengeHistories).toEqual(items.map((_, i) => success(i === 7 ? expectedId : 1000 + i)));
    expect(upstream.requests).toHaveLength(40);
  });
});

test('opaque JSON beyond the bounds is null, the rest of the record kept', async () => {
  answerWith(json(hostileBody('challengeable nested 5,000 levels')));
  const answer = await bothPaths('deep challengeable fields', SINGLE, { input: { points: 1, score: 1, message: 'hostile' } });
  const history = answer.data.addChallengeHistory.challengeHistory;
  expect(history.challenge).toMatchObject({ id: '3', challengeable: null });
  expect(history.ambassador).toMatchObject({ id: '7', fullName: 'Ada Lovelace' });
  expect(history.points).toBe(42);
});

test('Ints beyond int32 are null, not errors', async () => {
  answerWith(json(hostileBody('Ints beyond int32')));
  const answer = await bothPaths('int32 fields', SINGLE, { input: { points: 1, score: 1, message: 'hostile' } });
  const history = answer.data.addChallengeHistory.challengeHistory;
  expect(history.ambassador.status).toBeNull();
  expect(history.challenge.nbWins).toBeNull();
  expect(history.challenge.titles).toEqual([{ id: null, lang: 'EN_GB', langCode: 'en_GB', content: 'x' }]);
});

describe('a hostile 422', () => {
  test('keys named like Object.prototype members stay field errors; known keys keep their path', async () => {
    answerWith({
      status: 422,
      body: '{"message":"invalid","errors":{"constructor":["c"],"toString":["t"],"__proto__":["p"],"hasOwnProperty":"h","points":["too many"]}}',
      headers: { 'content-type': 'application/json' },
    });
    const answer = await bothPaths('prototype keys 422', SINGLE, { input: { points: 1, score: 1, message: 'hostile' } });
    expect(answer.errors).toBeUndefined();
    expect(answer.data.addChallengeHistory).toEqual({
      __typename: 'ValidationError',
      message: 'invalid',
      fieldErrors: [
        { field: 'constructor', path: null, messages: ['c'] },
        { field: 'toString', path: null, messages: ['t'] },
        { field: '__proto__', path: null, messages: ['p'] },
        { field: 'hasOwnProperty', path: null, messages: ['h'] },
        { field: 'points', path: ['input', 'points'], messages: ['too many'] },
      ],
    });
  });

  test('100,000 keys: 50 field errors, and the message counts what was left out', async () => {
    // The first keys carry 12 messages of 2,000 characters each; about 1.6 MB in all.
    const messages = (i: number) => (i < 3 ? Array.from({ length: 12 }, () => 'm'.repeat(2_000)) : ['m']);
    const errors = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`field_${i}`, messages(i)]));
    answerWith({ status: 422, body: { message: 'invalid', errors } });
    const answer = await bothPaths('100k keys 422', SINGLE, { input: { points: 1, score: 1, message: 'hostile' } });
    const refusal = answer.data.addChallengeHistory;
    expect(refusal.__typename).toBe('ValidationError');
    expect(refusal.message).toBe('invalid (99950 more fields and 6 more messages left out)');
    expect(refusal.fieldErrors).toHaveLength(50);
    expect(refusal.fieldErrors.map((e: { field: string }) => e.field)).toEqual(Array.from({ length: 50 }, (_, i) => `field_${i}`));
    for (const fieldError of refusal.fieldErrors.slice(0, 3)) {
      expect(fieldError.messages).toHaveLength(10);
      for (const message of fieldError.messages) expect(message).toBe(`${'m'.repeat(499)}…`);
    }
  });
});
