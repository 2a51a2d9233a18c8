// The one walk of an operation's fields through inline and named fragments, and the one fragment
// map of a document, which the root-field limit, the _service guard, the Idempotency-Key check,
// the call budget and the rootFields label all read. End-to-end, each caller is tested in its own
// file (test/plugins/request-telemetry.test.ts for the label).

import { getOperationAST, parse } from 'graphql';
import type { DocumentNode } from 'graphql';
import { expect, test } from 'vitest';
import { fragmentsOf, rootFieldsOf, selectedFields } from '../../src/schema/operation-walk.js';

/** `responseKey×times` of each root field, sorted: the walk's answer in one comparable string. */
function walk(query: string, operationName?: string): string[] {
  const document = parse(query);
  const operation = getOperationAST(document, operationName)!;
  return rootFieldsOf(document, operation)
    .map(({ node, times }) => `${node.alias?.value ?? node.name.value}×${times}`)
    .sort();
}

test.each<[string, string, string[]]>([
  ['fields as written, aliases kept apart', '{ a: challenge(id: "1") { id } challenge(id: "2") { id } }', ['a×1', 'challenge×1']],
  ['a named fragment', 'query { ...F } fragment F on Query { challenge(id: "1") { id } }', ['challenge×1']],
  ['an inline fragment, with and without a type condition', '{ ... on Query { a: __typename } ... { b: __typename } }', ['a×1', 'b×1']],
  ['a spread inside an inline fragment, and the reverse', '{ ... { ...F } } fragment F on Query { ... on Query { x: __typename } }', ['x×1']],
  ['each spread counts: twice, and through two fragments', '{ ...F ...F ...G } fragment G on Query { ...F } fragment F on Query { x: __typename }', ['x×3']],
  ['@skip and @include are not read', '{ a: __typename @skip(if: true) ...F @include(if: false) } fragment F on Query { b: __typename }', ['a×1', 'b×1']],
  ['a cycle is not followed', '{ ...A } fragment A on Query { a: __typename ...B } fragment B on Query { b: __typename ...A }', ['a×1', 'b×1']],
  ['a fragment spreading itself', '{ ...A } fragment A on Query { a: __typename ...A }', ['a×1']],
  ['an unknown fragment selects nothing', '{ a: __typename ...Missing }', ['a×1']],
  ['fields below the root are not root fields', '{ challenge(id: "1") { ...C } } fragment C on Challenge { id }', ['challenge×1']],
])('%s', (_label, query, expected) => {
  expect(walk(query)).toEqual(expected);
});

test('only the operation asked for is walked', () => {
  const query = 'query A { a: __typename } query B { ...F } fragment F on Query { b: __typename }';
  expect([walk(query, 'A'), walk(query, 'B')]).toEqual([['a×1'], ['b×1']]);
});

test('each field node comes once, however often it is spread: 60 levels of two spreads, 2^60 times, in linear time', () => {
  const levels = 60;
  const fragments = Array.from({ length: levels }, (_, i) => `fragment F${i} on Query { ${i + 1 < levels ? `...F${i + 1} ...F${i + 1}` : 'x: __typename'} }`);
  const fields = walk(`{ ...F0 } ${fragments.join(' ')}`);
  expect(fields).toEqual([`x×${2 ** (levels - 1)}`]);
});

test("the fragment map has graphql-js' shape (no prototype), and a plain object's prototype names no fragment", () => {
  const document = parse('{ ...F ...constructor ...toString } fragment F on Query { x: __typename }');
  const fragments = fragmentsOf(document);
  expect(Object.getPrototypeOf(fragments)).toBe(null);
  expect(Object.keys(fragments)).toEqual(['F']);
  const { selectionSet } = getOperationAST(document)!;
  expect(selectedFields(selectionSet, fragments).map(({ node, times }) => [node.alias?.value, times])).toEqual([['x', 1]]);
  expect(selectedFields(selectionSet, { ...fragments }).map(({ node }) => node.alias?.value)).toEqual(['x']);
});

test('one fragment map and one walk per document, whoever asks', () => {
  const document: DocumentNode = parse('mutation { ...F } fragment F on Mutation { __typename }');
  const operation = getOperationAST(document)!;
  expect(fragmentsOf(document)).toBe(fragmentsOf(document));
  expect(rootFieldsOf(document, operation)).toBe(rootFieldsOf(document, operation));
});
