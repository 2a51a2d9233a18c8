import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { printClientSchema } from '../../src/schema/print.js';

test('schema.graphql is what the Pothos code prints (run `npm run print-schema` after schema changes)', () => {
  const committed = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');
  expect(committed).toBe(printClientSchema());
});

test('the contract types are there, named as clients expect', () => {
  const sdl = printClientSchema();
  expect(sdl).toContain('addChallengeHistory(ambassadorId: ID!, input: AddChallengeHistoryInput!): AddChallengeHistoryResult!');
  expect(sdl).toContain('union AddChallengeHistoryResult = AddChallengeHistorySuccess | AmbassadorNotFoundError | ValidationError');
  expect(sdl).toContain('challenge(id: ID!): Challenge');
  expect(sdl).toMatch(/enum Locale \{\s+DE_DE\s+EN_GB\s+ES_ES\s+FR_FR\s+\}/);
});
