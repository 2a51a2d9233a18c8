import { describe, expect, test } from 'vitest';
import { OPAQUE_JSON_BOUNDS, decodeChallenge, decodeChallengeHistory } from '../../src/upstream/decode.js';
import { MAX_RETRY_AFTER_SECONDS, VALIDATION_BOUNDS, parseRetryAfter, readLaravelValidation } from '../../src/upstream/errors.js';

describe('date-times', () => {
  const dateOf = (value: unknown) => decodeChallenge({ id: 1, start_date: value }, null)?.startDate?.toISOString() ?? null;
  test.each([
    ['2025-05-04T09:42:00Z', '2025-05-04T09:42:00.000Z'],
    ['2025-05-04T09:42:00.123456Z', '2025-05-04T09:42:00.123Z'], // Laravel's microseconds
    ['2025-05-04T11:42:00+02:00', '2025-05-04T09:42:00.000Z'],
    ['2025-05-04T11:42:00+0200', '2025-05-04T09:42:00.000Z'],
    ['2025-05-04 09:42:00', '2025-05-04T09:42:00.000Z'], // no zone: UTC
    ['2025-13-40T99:00:00Z', null],
    ['yesterday', null],
    [1746351720, null],
    [null, null],
  ])('%j -> %j', (input, expected) => {
    expect(dateOf(input)).toBe(expected);
  });
});

test('a history id may be a positive integer or a non-empty string, nothing else', () => {
  const sent = { ambassadorId: 1, challengeId: null };
  expect(decodeChallengeHistory({ id: 9 }, sent)?.id).toBe(9);
  expect(decodeChallengeHistory({ id: 'h-9' }, sent)?.id).toBe('h-9');
  for (const id of [0, -1, 1.5, '', '  ', null, undefined, {}, []]) {
    expect(decodeChallengeHistory({ id }, sent)).toBeNull();
  }
});

test('Laravel validation bodies keep every key and string message, in order, own keys only', () => {
  expect(readLaravelValidation({ message: 'm', errors: { a: ['x', 1, 'y'], b: 'z', c: 5 } })).toEqual({
    message: 'm',
    errors: [
      { field: 'a', messages: ['x', 'y'] },
      { field: 'b', messages: ['z'] },
    ],
    omitted: { fields: 0, messages: 0 },
  });
  const prototypeKeys = JSON.parse('{"message":"m","errors":{"constructor":["c"],"toString":["t"],"__proto__":["p"]}}');
  expect(readLaravelValidation(prototypeKeys)?.errors).toEqual([
    { field: 'constructor', messages: ['c'] },
    { field: 'toString', messages: ['t'] },
    { field: '__proto__', messages: ['p'] },
  ]);
  expect(readLaravelValidation({ message: 'm' })).toBeNull();
  expect(readLaravelValidation([])).toBeNull();
  expect(readLaravelValidation(Object.create({ errors: { a: ['inherited'] } }))).toBeNull();
});

test('Laravel validation bodies are bounded in keys, messages per key and text length, counting what is left out', () => {
  const { maxFields, maxMessagesPerField, maxTextLength } = VALIDATION_BOUNDS;
  const errors = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`f${i}`, Array.from({ length: maxMessagesPerField + 3 }, () => 'x')]));
  errors.f0 = ['y'.repeat(maxTextLength * 10)];
  const read = readLaravelValidation({ message: 'z'.repeat(maxTextLength * 2), errors })!;
  expect(read.errors).toHaveLength(maxFields);
  expect(read.errors[0]!.messages[0]).toHaveLength(maxTextLength);
  expect(read.errors[0]!.messages[0]!.endsWith('…')).toBe(true);
  expect(read.errors[1]!.messages).toHaveLength(maxMessagesPerField);
  expect(read.message).toHaveLength(maxTextLength);
  expect(read.omitted).toEqual({ fields: 100_000 - maxFields, messages: (maxFields - 1) * 3 });
});

test('Retry-After: delta-seconds or an HTTP date, capped at a day; anything else is no hint', () => {
  const now = () => Date.parse('2026-01-01T00:00:00Z');
  expect(parseRetryAfter('120', now)).toBe(120);
  expect(parseRetryAfter(' 0 ', now)).toBe(0);
  expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:30 GMT', now)).toBe(90);
  expect(parseRetryAfter('Thursday, 01-Jan-26 00:01:30 GMT', now)).toBe(90); // RFC 850
  expect(parseRetryAfter('Thu Jan  1 00:01:30 2026', now)).toBe(90); // asctime
  expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
  expect(parseRetryAfter('Sat, 01 Jan 2028 00:00:00 GMT', now)).toBe(MAX_RETRY_AFTER_SECONDS);
  expect(parseRetryAfter('9'.repeat(20), now)).toBe(MAX_RETRY_AFTER_SECONDS);
  expect(MAX_RETRY_AFTER_SECONDS).toBe(86_400);
  for (const value of ['1.5', '-1', '1e3', '0x10', '12 s', 'soon', '2026-01-01', 'Thu, 01 Jan 2026', undefined]) {
    expect(parseRetryAfter(value, now)).toBeNull();
  }
});

describe('numbers GraphQL Int cannot carry are null', () => {
  const history = (challenge: unknown, ambassador: unknown = { id_ambassador: 7 }) =>
    decodeChallengeHistory({ id: 1, challenge, ambassador }, { ambassadorId: 7, challengeId: 3 })!;
  test.each([2 ** 31, -(2 ** 31) - 1, 1e20, 1.5, '99999999999', Number.MAX_SAFE_INTEGER + 2])('%j', (value) => {
    const decoded = history({ id: 3, nb_wins: value, titles: [{ id_i18n_content: value, lang: 'en_GB', content: 'x' }] }, { id_ambassador: 7, status: value });
    expect(decoded.challenge?.nbWins).toBeNull();
    expect(decoded.challenge?.titles[0]?.id).toBeNull();
    expect(decoded.ambassador?.status).toBeNull();
  });
  test('the int32 range itself is kept', () => {
    expect(history({ id: 3, nb_wins: 2 ** 31 - 1 }, { id_ambassador: 7, status: -(2 ** 31) }).challenge?.nbWins).toBe(2 ** 31 - 1);
    expect(history({ id: 3 }, { id_ambassador: 7, status: -(2 ** 31) }).ambassador?.status).toBe(-(2 ** 31));
  });
});

describe('opaque JSON (challengeable) is kept only within OPAQUE_JSON_BOUNDS', () => {
  const nested = (levels: number): unknown => JSON.parse('{"a":'.repeat(levels) + '1' + '}'.repeat(levels));
  const challengeableOf = (challengeable: unknown) => decodeChallenge({ id: 1, challengeable }, null)!.challengeable;
  test('within the bounds: as it is', () => {
    const value = nested(OPAQUE_JSON_BOUNDS.maxDepth - 1);
    expect(challengeableOf(value)).toBe(value);
    expect(challengeableOf({ list: [1, 'two', null, true, { three: 3 }] })).toEqual({ list: [1, 'two', null, true, { three: 3 }] });
  });
  test.each<[string, unknown]>([
    ['one level too deep', nested(OPAQUE_JSON_BOUNDS.maxDepth + 1)],
    ['5,000 levels', nested(5_000)],
    ['500,000 levels', nested(500_000)],
    ['deep through arrays', JSON.parse('{"a":' + '['.repeat(5_000) + ']'.repeat(5_000) + '}')],
    ['one long string', { s: 'x'.repeat(OPAQUE_JSON_BOUNDS.maxBytes) }],
    ['many keys', Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]))],
    ['a long array', { items: Array.from({ length: 100_000 }, () => 0) }],
    ['not an object', [1, 2]],
  ])('%s: null, the challenge still decoded', (_label, value) => {
    expect(challengeableOf(value)).toBeNull();
  });
});
