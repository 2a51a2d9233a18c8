// The upstream-failure table: every kind maps to a registry code, a write reports its outcome in
// the calling field's words, a read reports none.

import { GraphQLError } from 'graphql';
import { expect, test } from 'vitest';
import { errorCodeEntry, isErrorCode } from '../../src/errors/registry.js';
import { mapUpstreamError } from '../../src/errors/upstream-failures.js';
import { UpstreamError } from '../../src/upstream/errors.js';
import type { UpstreamErrorKind } from '../../src/upstream/errors.js';

const KINDS: Record<UpstreamErrorKind, string> = {
  no_token: 'UNAUTHENTICATED',
  unauthorized: 'UNAUTHENTICATED',
  forbidden: 'FORBIDDEN',
  rate_limited: 'RATE_LIMITED',
  timeout: 'UPSTREAM_TIMEOUT',
  unavailable: 'UPSTREAM_UNAVAILABLE',
  not_found: 'BAD_UPSTREAM_RESPONSE',
  validation: 'BAD_UPSTREAM_RESPONSE',
  bad_response: 'BAD_UPSTREAM_RESPONSE',
};
const WRITE = { mayExist: 'The ambassador note may have been saved' };

test.each(Object.entries(KINDS))('%s maps to %s, a code of the registry with a field-error status', (kind, code) => {
  const mapped = mapUpstreamError(new UpstreamError(kind as UpstreamErrorKind, 'detail')) as GraphQLError;
  expect(mapped).toBeInstanceOf(GraphQLError);
  expect(mapped.extensions).toEqual({ code });
  expect(isErrorCode(code) && errorCodeEntry(code).status).toEqual([200]);
  // The upstream's own detail (URLs, statuses) stays in the logs.
  expect(mapped.message).not.toContain('detail');
});

test("a write that may have reached the upstream says so in the calling field's words; one never sent says false", () => {
  const sent = mapUpstreamError(new UpstreamError('timeout', 'deadline', { requestMayHaveBeenProcessed: true }), WRITE) as GraphQLError;
  expect(sent.extensions).toEqual({ code: 'UPSTREAM_TIMEOUT', outcomeUnknown: true });
  expect(sent.message).toBe('The upstream did not answer in time. The ambassador note may have been saved: check before retrying.');

  const unsent = mapUpstreamError(new UpstreamError('timeout', 'queued'), WRITE) as GraphQLError;
  expect(unsent.extensions).toEqual({ code: 'UPSTREAM_TIMEOUT', outcomeUnknown: false });
  expect(unsent.message).toBe('The upstream did not answer in time.');

  const noToken = mapUpstreamError(new UpstreamError('no_token', 'not sent'), WRITE) as GraphQLError;
  expect(noToken.extensions).toEqual({ code: 'UNAUTHENTICATED', outcomeUnknown: false });
});

test('a read never reports an outcome, even for a call that reached the upstream; Retry-After is passed on', () => {
  const read = mapUpstreamError(new UpstreamError('unavailable', '503', { requestMayHaveBeenProcessed: true })) as GraphQLError;
  expect(read.extensions).toEqual({ code: 'UPSTREAM_UNAVAILABLE' });
  expect(read.message).not.toMatch(/may have/);
  const limited = mapUpstreamError(new UpstreamError('rate_limited', '429', { retryAfterSeconds: 30 }), WRITE) as GraphQLError;
  expect(limited.extensions).toEqual({ code: 'RATE_LIMITED', outcomeUnknown: false, retryAfter: 30 });
});

test('anything but an UpstreamError is returned as it is (Yoga masks the unexpected ones)', () => {
  const bug = new TypeError('x is undefined');
  const mapped = new GraphQLError('already coded', { extensions: { code: 'FORBIDDEN' } });
  expect(mapUpstreamError(bug, WRITE)).toBe(bug);
  expect(mapUpstreamError(mapped)).toBe(mapped);
});
