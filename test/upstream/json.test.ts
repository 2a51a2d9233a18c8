// Depth-bounded parsing of upstream bodies: exact for what it keeps, null for what is too deep,
// and a deep body costs a scan rather than JSON.parse's slow case.

import { expect, test } from 'vitest';
import { MAX_PARSE_DEPTH, parseJsonBounded } from '../../src/upstream/json.js';

const parse = (text: string, maxDepth?: number) => parseJsonBounded(Buffer.from(text), maxDepth);

test('within the depth: the same value as JSON.parse, strings with brackets, quotes and UTF-8 included', () => {
  const text = JSON.stringify({ a: '[[{"x"}]] \\" ] }', b: [[1, { c: 'é😀' }]], d: null, e: '\\\\' });
  expect(parse(text)).toEqual(JSON.parse(text));
  const atDepth = '['.repeat(MAX_PARSE_DEPTH) + ']'.repeat(MAX_PARSE_DEPTH);
  expect(parse(atDepth)).toEqual(JSON.parse(atDepth));
});

test('deeper values become null, their siblings kept', () => {
  expect(parse('{"a":"[[[\\"]]]","b":[[[1]]],"c":{"d":[{"e":2}]},"f":3}', 2)).toEqual({ a: '[[["]]]', b: [null], c: { d: null }, f: 3 });
  expect(parse(`{"id":7,"x":${'['.repeat(100_000)}${']'.repeat(100_000)},"y":1}`)).toMatchObject({ id: 7, y: 1 });
});

test('invalid JSON still fails', () => {
  for (const text of ['{"id": 1', `{"id":1,"x":${'['.repeat(1_000)}`, '{"a":"unterminated}', '']) {
    expect(() => parse(text)).toThrow(SyntaxError);
  }
});

test('a 2 MB body nested 1,000,000 levels costs a fraction of what JSON.parse alone costs', () => {
  const deep = Buffer.from(`{"id":1,"x":${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}}`);
  const time = (work: () => unknown) => {
    const started = performance.now();
    work();
    return performance.now() - started;
  };
  const plain = time(() => JSON.parse(deep.toString('utf8')));
  const bounded = time(() => expect(parseJsonBounded(deep)).toMatchObject({ id: 1 }));
  expect(bounded).toBeLessThan(plain / 4);
});
