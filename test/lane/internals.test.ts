// The start-up check of what the lane borrows from graphql-js' and Yoga's internals: all pass on
// the versions installed, and each broken graphql-js internal (missing, or of another shape, as
// in graphql 17) is reported by name, which turns the lane off (fast-lane.ts says why at start-up).

import { createYoga } from 'graphql-yoga';
import { expect, test } from 'vitest';
import { checkInternals, graphqlInternals } from '../../src/lane/internals.js';
import type { GraphqlInternals } from '../../src/lane/internals.js';
import { subgraphSchema } from '../../src/schema/index.js';

const yoga = createYoga({ schema: subgraphSchema, maskedErrors: { isDev: false } });
const broken = (parts: Partial<Record<keyof GraphqlInternals, unknown>>) => ({ ...graphqlInternals, ...parts }) as GraphqlInternals;

test('every internal the lane borrows passes its check on the installed graphql-js and Yoga', async () => {
  expect(await checkInternals(yoga)).toEqual([]);
  expect(await checkInternals(yoga, graphqlInternals)).toEqual([]);
});

test('a graphql-js internal that is gone is named (getFieldDef is gone in graphql 17)', async () => {
  expect(await checkInternals(yoga, broken({ getFieldDef: undefined }))).toEqual(['graphql-js no longer has getFieldDef where the lane imports it']);
  expect(await checkInternals(yoga, broken({ collectFields: undefined, collectSubfields: undefined }))).toEqual([
    'graphql-js no longer has collectFields where the lane imports it',
    'graphql-js no longer has collectSubfields where the lane imports it',
  ]);
});

test('a graphql-js internal of another shape is named', async () => {
  // graphql 17's collectFields returns an object ({ groupedFieldSet, newDeferUsages }), not a Map.
  const asObject = broken({
    collectFields: (...args: Parameters<GraphqlInternals['collectFields']>) => ({ groupedFieldSet: graphqlInternals.collectFields(...args), newDeferUsages: [] }),
  });
  expect(await checkInternals(yoga, asObject)).toEqual([
    "graphql-js's collectFields no longer returns a Map of response names to field nodes",
    "graphql-js's getFieldDef no longer finds a field's definition",
    "graphql-js's collectSubfields no longer returns a Map of response names to field nodes",
  ]);
  expect(await checkInternals(yoga, broken({ getFieldDef: () => undefined }))).toEqual([
    "graphql-js's getFieldDef no longer finds a field's definition",
    "graphql-js's getFieldDef no longer gives __typename's meta field",
  ]);
  const throwing = broken({
    collectSubfields: () => {
      throw new TypeError('fieldNodes is not iterable');
    },
  });
  expect(await checkInternals(yoga, throwing)).toEqual(["graphql-js's field collection failed: fieldNodes is not iterable"]);
});
