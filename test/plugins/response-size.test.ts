// The measure MAX_RESPONSE_BYTES is checked with: close to JSON.stringify's length for what the
// schema answers, and it stops once past the limit (an answer too large is never walked, nor
// serialised, in full). End to end, on both paths: test/security/amplification.test.ts.

import { GraphQLError } from 'graphql';
import { expect, test } from 'vitest';
import { jsonBytes } from '../../src/plugins/response-size.js';

test('about the length of JSON.stringify for results, errors included', () => {
  const result = {
    data: {
      addChallengeHistories: Array.from({ length: 50 }, (_, i) => ({
        __typename: 'ValidationError',
        message: `ambassadorId must be a positive integer (${i}).`,
        fieldErrors: [{ field: 'id', path: ['ambassadorId'], messages: ['ambassadorId must be a positive integer.'] }],
        points: 12.5,
        replayed: false,
        createdAt: null,
      })),
    },
    errors: [new GraphQLError('Unexpected error.', { path: ['addChallengeHistories', 3], extensions: { code: 'INTERNAL_SERVER_ERROR' } })],
  };
  const exact = JSON.stringify(result).length;
  const measured = jsonBytes(result, Number.MAX_SAFE_INTEGER);
  expect(measured / exact).toBeGreaterThan(0.9);
  expect(measured / exact).toBeLessThan(1.2);
});

test('stops once past the limit: items beyond it are never read', () => {
  const items: unknown[] = Array.from({ length: 1000 }, () => ({ message: 'x'.repeat(100) }));
  for (let i = 100; i < items.length; i += 1) {
    Object.defineProperty(items, i, { get: () => { throw new Error(`item ${i} was read`); } });
  }
  expect(jsonBytes({ data: { items } }, 5_000)).toBeGreaterThan(5_000);
});
