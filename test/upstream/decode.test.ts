import { describe, expect, test } from 'vitest';
import { decodeChallenge, decodeChallengeHistory } from '../../src/upstream/decode.js';
import { parseRetryAfter, readLaravelValidation } from '../../src/upstream/errors.js';

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

test('Laravel validation bodies keep every key and string message', () => {
  expect(readLaravelValidation({ message: 'm', errors: { a: ['x', 1, 'y'], b: 'z', c: 5 } })).toEqual({
    message: 'm',
    errors: { a: ['x', 'y'], b: ['z'] },
  });
  expect(readLaravelValidation({ message: 'm' })).toBeNull();
  expect(readLaravelValidation([])).toBeNull();
});

test('Retry-After: seconds, an HTTP date, or nothing usable', () => {
  const now = () => Date.parse('2026-01-01T00:00:00Z');
  expect(parseRetryAfter('120', now)).toBe(120);
  expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:30 GMT', now)).toBe(90);
  expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
  expect(parseRetryAfter('soon', now)).toBeNull();
  expect(parseRetryAfter(undefined, now)).toBeNull();
});
