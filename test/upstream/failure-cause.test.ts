// The cause an upstream failure's log line carries: one word an operator acts on, and the code,
// looking through undici's wrappers; body excerpts bounded, single-line, without the token.

import { describe, expect, test } from 'vitest';
import { FAILURE_EXCERPT_CHARS, bodyExcerpt, transportCause } from '../../src/upstream/errors.js';

const withCode = (code: string, cause?: unknown) => Object.assign(new Error(code), { code, cause });

describe('transportCause', () => {
  test.each([
    [withCode('ECONNREFUSED'), 'refused (ECONNREFUSED)'],
    [withCode('ECONNRESET'), 'reset (ECONNRESET)'],
    [withCode('UND_ERR_SOCKET', withCode('ECONNRESET')), 'reset (ECONNRESET)'],
    [withCode('UND_ERR_SOCKET'), 'reset (UND_ERR_SOCKET)'],
    [withCode('ENOTFOUND'), 'dns (ENOTFOUND)'],
    [withCode('EAI_AGAIN'), 'dns (EAI_AGAIN)'],
    [withCode('CERT_HAS_EXPIRED'), 'tls (CERT_HAS_EXPIRED)'],
    [withCode('ERR_SSL_WRONG_VERSION_NUMBER'), 'tls (ERR_SSL_WRONG_VERSION_NUMBER)'],
    [withCode('DEPTH_ZERO_SELF_SIGNED_CERT'), 'tls (DEPTH_ZERO_SELF_SIGNED_CERT)'],
    [withCode('UND_ERR_CONNECT_TIMEOUT'), 'timeout (UND_ERR_CONNECT_TIMEOUT)'],
    [withCode('EHOSTUNREACH'), 'unreachable (EHOSTUNREACH)'],
    [new Error('no code'), 'transport error'],
  ])('%s -> %s', (error, cause) => {
    expect(transportCause(error)).toBe(cause);
  });
});

describe('bodyExcerpt', () => {
  test('bounded, one line, the token redacted even where the cut would fall inside it', () => {
    const token = 'secret-token-abcdef';
    const body = Buffer.from(`line one\r\nline two ${'x'.repeat(FAILURE_EXCERPT_CHARS - 22)}${token} and more`);
    const excerpt = bodyExcerpt(body, token);
    expect(excerpt.length).toBeLessThanOrEqual(FAILURE_EXCERPT_CHARS);
    expect(excerpt).toMatch(/^line one line two x+/);
    expect(excerpt).not.toMatch(/secret|\n|\r/);
    expect(bodyExcerpt(Buffer.from(`echo ${token}`), token)).toBe('echo [token]');
    expect(bodyExcerpt(undefined, token)).toBe('');
  });
});
