// The error-code registry is the one list of codes: the README's table is its printout, and every
// code string the gateway's sources write is one of its entries.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { TABLE_END, TABLE_START, printErrorCodeTable, withErrorCodeTable } from '../../src/errors/print.js';
import { ErrorCode, errorCodes, isErrorCode } from '../../src/errors/registry.js';

const root = new URL('../../', import.meta.url).pathname;

test("README.md's error-code table is the registry's printout (rewrite it with `npm run docs:errors`)", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf(TABLE_START) + TABLE_START.length, readme.indexOf(TABLE_END));
  expect(table.trim()).toBe(printErrorCodeTable());
  expect(withErrorCodeTable(readme)).toBe(readme);
});

test('the printout has one row per code and fails loudly without its markers', () => {
  const rows = printErrorCodeTable().split('\n').slice(2);
  expect(rows).toHaveLength(errorCodes.length);
  expect(rows.map((row) => /^\| `([A-Z_]+)`/.exec(row)?.[1])).toEqual(errorCodes.map((entry) => entry.code));
  expect(() => withErrorCodeTable('# no table here')).toThrow(/markers/);
});

test('each code names itself, and the strings clients and tests depend on are kept exactly', () => {
  for (const { code } of errorCodes) expect(ErrorCode[code]).toBe(code);
  expect(Object.keys(ErrorCode).sort()).toEqual(
    [
      'UNAUTHENTICATED', 'FORBIDDEN', 'RATE_LIMITED', 'UPSTREAM_TIMEOUT', 'UPSTREAM_UNAVAILABLE', 'BAD_UPSTREAM_RESPONSE',
      'BAD_USER_INPUT', 'OPERATION_LIMIT_EXCEEDED', 'IDEMPOTENCY_KEY_REUSED', 'IDEMPOTENCY_STORE_UNAVAILABLE', 'OUTCOME_UNKNOWN',
      'INTERNAL_SERVER_ERROR', 'CSRF_PREVENTED', 'REQUEST_TOO_LARGE', 'LENGTH_REQUIRED', 'NOT_FOUND', 'HOST_NOT_ALLOWED',
      'SERVER_BUSY', 'REQUEST_TIMEOUT', 'REQUEST_HEADERS_TOO_LARGE', 'BAD_REQUEST', 'SERVICE_SDL_FORBIDDEN',
      'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_HASH_MISMATCH', 'PERSISTED_QUERY_ONLY', 'PERSISTED_QUERY_NOT_IN_LIST',
      'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'OPERATION_RESOLUTION_FAILURE', 'PERSISTED_QUERY_ID_REQUIRED',
      'CANNOT_SEND_PQ_ID_AND_BODY', 'REQUEST_ENTITY_TOO_LARGE',
      'RESPONSE_TOO_LARGE',
    ].sort(),
  );
  expect(isErrorCode('UPSTREAM_TIMEOUT')).toBe(true);
  expect(isErrorCode('toString')).toBe(false);
});

/** Every .ts file under src/, recursively. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

test('no source outside the registry writes a code as a string literal', () => {
  // An extensions.code is an upper-case word; Node's error codes (`code: \`no answer…\``) are not.
  const literal = /\bcode:\s*['"`][A-Z][A-Z_]*['"`]/;
  const offenders = sources(join(root, 'src'))
    .filter((file) => !file.includes('/src/errors/'))
    .flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => literal.test(line))
        .map((line) => `${file.slice(root.length)}: ${line.trim()}`),
    );
  expect(offenders).toEqual([]);
});
