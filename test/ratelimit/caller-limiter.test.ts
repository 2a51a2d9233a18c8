// The caller gate on its own, without Redis: free when nobody is blocked, an upstream Retry-After
// honoured for at most MAX_HONOURED_RETRY_AFTER_S, and its memory bounded.

import { describe, expect, test } from 'vitest';
import { CallerLimiter, MAX_HONOURED_RETRY_AFTER_S, MAX_TRACKED_CALLERS } from '../../src/ratelimit/caller-limiter.js';
import type { CallerRefusalReason } from '../../src/ratelimit/caller-limiter.js';
import { createLogger } from '../../src/telemetry/logging.js';

function limiter(refused: CallerRefusalReason[] = []) {
  return new CallerLimiter({ limit: 0, windowSeconds: 60, failOpen: true, redis: null, keyPrefix: 't:', logger: createLogger({ write: () => {} }), onRefused: (reason) => refused.push(reason) });
}

describe('CallerLimiter, CALLER_RATE_LIMIT=0 (the default), no Redis', () => {
  test('nobody blocked: admits at once, nothing to await', () => {
    expect(limiter().admit('some-token')).toBeNull();
  });

  test("a caller answered 429 is refused until its Retry-After, capped; another caller is not", async () => {
    const refused: CallerRefusalReason[] = [];
    const gate = limiter(refused);
    gate.upstreamLimited('limited', 86_400);
    expect(await gate.admit('limited')).toBe(MAX_HONOURED_RETRY_AFTER_S);
    expect(gate.admit('other')).toBeNull();
    expect(refused).toEqual(['upstream_429']);
  });

  test('Retry-After: 0 blocks nothing', () => {
    const gate = limiter();
    gate.upstreamLimited('limited', 0);
    expect(gate.admit('limited')).toBeNull();
  });

  test('at most MAX_TRACKED_CALLERS blocks are held', () => {
    const gate = limiter();
    for (let i = 0; i <= MAX_TRACKED_CALLERS; i++) gate.upstreamLimited(`caller-${i}`, 30);
    expect((gate as unknown as { blocks: Map<string, number> }).blocks.size).toBe(MAX_TRACKED_CALLERS);
  });
});
