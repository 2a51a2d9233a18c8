import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { generateClientFiles } from '../../scripts/codegen.js';

test.each(await generateClientFiles())('$path is what codegen makes of the schema (run `npm run print-schema`)', ({ path, content }) => {
  expect(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')).toBe(content);
});

test('possibleTypes lists the result union and the Error interface with all their members', async () => {
  const { possibleTypes } = JSON.parse(readFileSync(new URL('../../src/generated/possible-types.json', import.meta.url), 'utf8'));
  expect(possibleTypes).toEqual({
    AddChallengeHistoryResult: ['AddChallengeHistorySuccess', 'AmbassadorNotFoundError', 'ValidationError'],
    Error: ['AmbassadorNotFoundError', 'ValidationError'],
  });
});
