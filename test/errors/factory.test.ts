// codedError is the one way the gateway makes a GraphQL error: a registry code, first in
// extensions and never overridden, and no other constructor in the sources that make errors.

import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Kind, parse } from 'graphql';
import { expect, test } from 'vitest';
import { codedError } from '../../src/errors/factory.js';
import { ErrorCode } from '../../src/errors/registry.js';
import { refusalBody } from '../../src/http/refusal.js';

const src = new URL('../../src/', import.meta.url).pathname;

test('the code comes first and wins; nodes, originalError and the other extensions are kept', () => {
  const cause = new Error('socket hang up');
  const operation = parse('mutation { __typename }').definitions[0]!;
  const error = codedError(ErrorCode.OPERATION_LIMIT_EXCEEDED, 'Too many.', { maxCost: 5, code: 'SOMETHING_ELSE', http: { status: 400 } }, { nodes: [operation], originalError: cause });
  expect(error.message).toBe('Too many.');
  expect(Object.keys(error.extensions)).toEqual(['code', 'maxCost', 'http']);
  expect(error.extensions).toEqual({ code: 'OPERATION_LIMIT_EXCEEDED', maxCost: 5, http: { status: 400 } });
  expect(error.nodes?.[0]?.kind).toBe(Kind.OPERATION_DEFINITION);
  expect(error.locations).toEqual([{ line: 1, column: 1 }]);
  expect(error.originalError).toBe(cause);
  expect(error.toJSON()).toEqual({ message: 'Too many.', locations: [{ line: 1, column: 1 }], extensions: { code: 'OPERATION_LIMIT_EXCEEDED', maxCost: 5, http: { status: 400 } } });
});

test("a refusal written before GraphQL runs (src/http/refusal.ts) has the body codedError's error prints", () => {
  const message = 'The request headers are too large.';
  expect(refusalBody(ErrorCode.REQUEST_HEADERS_TOO_LARGE, message)).toBe(JSON.stringify({ errors: [codedError(ErrorCode.REQUEST_HEADERS_TOO_LARGE, message)] }));
});

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourcesUnder(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

test('no source makes a GraphQLError but through codedError (src/errors/factory.ts)', () => {
  const offenders = sourcesUnder(src)
    .map((file) => relative(src, file))
    .filter((file) => file !== 'errors/factory.ts')
    .flatMap((file) =>
      readFileSync(join(src, file), 'utf8')
        .split('\n')
        .flatMap((line, i) => (/\bnew GraphQLError\(|\bcreateGraphQLError\(/.test(line) ? [`src/${file}:${i + 1}: ${line.trim()}`] : [])),
    );
  expect(offenders).toEqual([]);
});
