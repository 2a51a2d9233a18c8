// What a GET is retried after, and the retry budget that keeps retries a bounded share of calls.

import { describe, expect, test } from 'vitest';
import { UpstreamError } from '../../src/upstream/errors.js';
import { RETRY_BACKOFF_BASE_MS, RETRY_BACKOFF_CAP_MS, RETRY_BUDGET_MIN, RETRY_BUDGET_SHARE, RETRY_BUDGET_WINDOW_MS, RetryBudget, retryDelayMs } from '../../src/upstream/retry.js';

const max = () => 0.999999;

describe('retryDelayMs', () => {
  test('502, 503, 504, no connection and resets are retried with jittered exponential backoff, capped', () => {
    for (const status of [502, 503, 504]) expect(retryDelayMs({ status, retryAfterSeconds: null }, 0, max)).toBeCloseTo(RETRY_BACKOFF_BASE_MS, 0);
    const reset = new UpstreamError('unavailable', 'reset (ECONNRESET): upstream unreachable');
    expect(retryDelayMs({ error: reset }, 2, max)).toBeCloseTo(4 * RETRY_BACKOFF_BASE_MS, 0);
    expect(retryDelayMs({ error: reset }, 30, max)).toBeLessThanOrEqual(RETRY_BACKOFF_CAP_MS);
    expect(retryDelayMs({ error: reset }, 3, () => 0)).toBe(0);
  });

  test('a 429 only with a Retry-After, waiting what it asked (and a base backoff more, so the caller gate\'s block has ended)', () => {
    expect(retryDelayMs({ status: 429, retryAfterSeconds: 2 }, 0, () => 0)).toBe(2000 + RETRY_BACKOFF_BASE_MS);
    expect(retryDelayMs({ status: 429, retryAfterSeconds: 0 }, 0, () => 0)).toBe(0);
    expect(retryDelayMs({ status: 429, retryAfterSeconds: null }, 0)).toBeNull();
  });

  test('never after a timeout, a 500, a 4xx, or the gateway refusing by itself', () => {
    expect(retryDelayMs({ error: new UpstreamError('timeout', 'timeout') }, 0)).toBeNull();
    for (const status of [500, 501, 400, 401, 403, 404, 422]) expect(retryDelayMs({ status, retryAfterSeconds: null }, 0)).toBeNull();
    expect(retryDelayMs({ error: new UpstreamError('unavailable', 'answered 503', { status: 503 }) }, 0)).toBeNull();
    expect(retryDelayMs({ error: new UpstreamError('unavailable', 'circuit open', { circuitOpen: true }) }, 0)).toBeNull();
    expect(retryDelayMs({ error: new UpstreamError('rate_limited', 'limited', { limitedByGateway: true }) }, 0)).toBeNull();
    expect(retryDelayMs({ error: new Error('a bug') }, 0)).toBeNull();
  });
});

describe('RetryBudget', () => {
  test('retries stay within the minimum plus a share of the calls in the window, then recover', () => {
    let now = 0;
    const budget = new RetryBudget(() => now);
    const calls = 1000;
    for (let i = 0; i < calls; i++) budget.recordCall();
    let taken = 0;
    while (budget.tryTakeRetry()) taken++;
    expect(taken).toBe(RETRY_BUDGET_MIN + RETRY_BUDGET_SHARE * calls);
    now += RETRY_BUDGET_WINDOW_MS / 2; // the calls are in the previous half: still counted
    expect(budget.tryTakeRetry()).toBe(false);
    now += RETRY_BUDGET_WINDOW_MS; // a whole window later, nothing is counted
    expect(budget.tryTakeRetry()).toBe(true);
  });
});
