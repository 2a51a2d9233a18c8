// The Idempotency-Key request header (draft-ietf-httpapi-idempotency-key-header) and the
// Idempotent-Replayed answer header: the header is the key of a request's one award, in the
// draft's quoted form or bare; other shapes are refused before any upstream call; a replayed
// success says so in a header on both request paths, whichever way its key came.

import { expect, test } from 'vitest';
import { TEST_TOKEN, useGatewayOn } from '../support/gateway.js';
import { challengeById, startScriptableUpstream } from '../support/scriptable-upstream.js';
import { AWARD, KEYED_ADD, newKey } from '../idempotency/keyed.js';

const { upstream, gw } = useGatewayOn(startScriptableUpstream);

const BATCH = `mutation Batch($items: [AddChallengeHistoryItemInput!]!) { addChallengeHistories(items: $items) { __typename } }`;
const TWO = `mutation Two($input: AddChallengeHistoryInput!) {
  a: addChallengeHistory(ambassadorId: "1", input: $input) { __typename }
  ...More
}
fragment More on Mutation { b: addChallengeHistory(ambassadorId: "2", input: $input) { __typename } }`;

function award(header: string | null, input: Record<string, unknown> = {}, query = KEYED_ADD) {
  return gw.graphql(
    { query, variables: { ambassadorId: '7', input: { ...AWARD, ...input } } },
    { headers: header === null ? {} : { 'idempotency-key': header } },
  );
}

const posts = () => upstream.requests.filter((request) => request.method === 'POST').length;

function reset() {
  upstream.reset();
  upstream.respondWith(challengeById());
}

test('the quoted sf-string form names the award: its repeat is replayed, with Idempotent-Replayed: true, and one POST upstream', async () => {
  reset();
  const key = newKey();
  const first = await award(`"${key}"`);
  expect(first.body.data.addChallengeHistory).toMatchObject({ __typename: 'AddChallengeHistorySuccess', replayed: false });
  expect(first.headers.get('idempotent-replayed')).toBeNull();
  const repeat = await award(`"${key}"`);
  expect(repeat.body.data.addChallengeHistory).toMatchObject({ __typename: 'AddChallengeHistorySuccess', replayed: true });
  expect(repeat.body.data.addChallengeHistory.challengeHistory).toEqual(first.body.data.addChallengeHistory.challengeHistory);
  expect(repeat.headers.get('idempotent-replayed')).toBe('true');
  expect(posts()).toBe(1);
  // The key is never sent upstream, in any form.
  expect(JSON.stringify(upstream.requests)).not.toContain(key);
});

test('the bare form is the same key as the quoted one, and as input.idempotencyKey', async () => {
  reset();
  const key = newKey();
  await award(key);
  expect((await award(`"${key}"`)).body.data.addChallengeHistory.replayed).toBe(true);
  expect((await award(null, { idempotencyKey: key })).body.data.addChallengeHistory.replayed).toBe(true);
  const both = await award(key, { idempotencyKey: key });
  expect(both.body.data.addChallengeHistory.replayed).toBe(true);
  expect(posts()).toBe(1);
  // sf-string escapes: "a\"b" is the key a"b.
  reset();
  await award('"esc\\"aped\\\\key"');
  expect((await award(null, { idempotencyKey: 'esc"aped\\key' })).body.data.addChallengeHistory.replayed).toBe(true);
  expect(posts()).toBe(1);
});

test('header and input naming different keys: ValidationError at ["input","idempotencyKey"], nothing sent', async () => {
  reset();
  const response = await award(`"${newKey()}"`, { idempotencyKey: newKey() });
  expect(response.status).toBe(200);
  expect(response.body.data.addChallengeHistory).toMatchObject({
    __typename: 'ValidationError',
    fieldErrors: [{ field: 'idempotencyKey', path: ['input', 'idempotencyKey'], messages: [expect.stringMatching(/different keys/)] }],
  });
  expect(posts()).toBe(0);
});

test.each([
  ['an unterminated quote', '"abc'],
  ['a space', 'two words'],
  ['a bad escape', '"a\\b"'],
  ['an sf-string with parameters', '"abc";x=1'],
  ['an empty quoted string', '""'],
  ['256 characters', 'k'.repeat(256)],
])('a header that is not a key (%s): ValidationError, nothing sent', async (_name, header) => {
  reset();
  const response = await award(header);
  expect(response.body.data.addChallengeHistory).toMatchObject({
    __typename: 'ValidationError',
    fieldErrors: [{ field: 'idempotencyKey', path: ['input', 'idempotencyKey'], messages: [expect.stringMatching(/Idempotency-Key header/)] }],
  });
  expect(posts()).toBe(0);
});

test('with a batch field, several award fields or several operations the header is refused (BAD_USER_INPUT), before any call', async () => {
  reset();
  const key = `"${newKey()}"`;
  const input = { ...AWARD };
  const batch = await gw.graphql(
    { query: BATCH, variables: { items: [{ ambassadorId: '1', input }] } },
    { headers: { 'idempotency-key': key } },
  );
  const two = await gw.graphql({ query: TWO, variables: { input } }, { headers: { 'idempotency-key': key } });
  const operations = await fetch(gw.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_TOKEN}`, 'idempotency-key': key },
    body: JSON.stringify([1, 2].map((id) => ({ query: KEYED_ADD, variables: { ambassadorId: String(id), input } }))),
  });
  for (const [response, reason] of [
    [batch, /not a batch/],
    [two, /2 addChallengeHistory fields/],
    [{ status: operations.status, body: await operations.json() }, /2 operations/],
  ] as const) {
    expect(response.status).toBe(400);
    expect(response.body.data).toBeUndefined();
    expect(response.body.errors).toEqual([
      expect.objectContaining({ message: expect.stringMatching(reason), extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
    ]);
  }
  expect(posts()).toBe(0);
  // Without the header, the same batch runs.
  const unkeyed = await gw.graphql({ query: BATCH, variables: { items: [{ ambassadorId: '1', input }] } });
  expect(unkeyed.body.data.addChallengeHistories).toEqual([{ __typename: 'AddChallengeHistorySuccess' }]);
});

test('a query with the header runs (there is no award to name)', async () => {
  reset();
  const response = await gw.graphql({ query: '{ challenge(id: "1") { id } }' }, { headers: { 'idempotency-key': '"unused"' } });
  expect(response.body).toEqual({ data: { challenge: { id: '1' } } });
});

test('Idempotent-Replayed comes from the fast lane too, for a key sent in input; never on a mixed or failed batch', async () => {
  reset();
  const key = newKey();
  const lane = () => gw.gateway.metrics.fastLaneRequests.get().then((metric) => metric.values[0]?.value ?? 0);
  // A new document each time is Yoga's; the same document again is the lane's.
  const query = `# lane replay ${key}\n${KEYED_ADD}`;
  const send = () => gw.graphql({ query, variables: { ambassadorId: '7', input: { ...AWARD, idempotencyKey: key } } });
  const first = await send();
  expect(first.headers.get('idempotent-replayed')).toBeNull();
  const before = await lane();
  const replay = await send();
  expect((await lane()) - before).toBe(1);
  expect(replay.body.data.addChallengeHistory.replayed).toBe(true);
  expect(replay.headers.get('idempotent-replayed')).toBe('true');
  expect(posts()).toBe(1);
  // A batch: one replayed item and one new award is not a replay.
  const items = (second: string) => [
    { ambassadorId: '7', input: { ...AWARD, idempotencyKey: key } },
    { ambassadorId: '7', input: { ...AWARD, idempotencyKey: second } },
  ];
  const mixedKey = newKey();
  const mixed = await gw.graphql({ query: BATCH, variables: { items: items(mixedKey) } });
  expect(mixed.headers.get('idempotent-replayed')).toBeNull();
  const allReplays = await gw.graphql({ query: BATCH, variables: { items: items(mixedKey) } });
  expect(allReplays.headers.get('idempotent-replayed')).toBe('true');
  expect(posts()).toBe(2);
});

test('CORS: a listed origin may send Idempotency-Key and read Idempotent-Replayed', async () => {
  const { startGateway } = await import('../support/gateway.js');
  const listed = await startGateway({ upstreamUrl: upstream.url, env: { CORS_ORIGINS: 'https://app.example.test' } });
  try {
    const preflight = await fetch(listed.url, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization, idempotency-key' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.test');
    expect(preflight.headers.get('access-control-allow-headers')!.split(/,\s*/)).toEqual(expect.arrayContaining(['authorization', 'content-type', 'idempotency-key']));
    reset();
    const key = `"${newKey()}"`;
    const post = () =>
      fetch(listed.url, {
        method: 'POST',
        headers: { origin: 'https://app.example.test', 'content-type': 'application/json', authorization: `Bearer ${TEST_TOKEN}`, 'idempotency-key': key },
        body: JSON.stringify({ query: KEYED_ADD, variables: { ambassadorId: '7', input: AWARD } }),
      });
    await post();
    const replay = await post();
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.headers.get('access-control-expose-headers')!.split(/,\s*/)).toContain('idempotent-replayed');
  } finally {
    await listed.close();
  }
});
