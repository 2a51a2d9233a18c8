// The in-memory store's bounds, driven through its interface with a clock the test moves.

import { expect, test } from 'vitest';
import { MemoryIdempotencyStore } from '../../src/idempotency/memory-store.js';
import { IdempotencyStoreUnavailable } from '../../src/idempotency/store.js';
import type { Claim } from '../../src/idempotency/store.js';

const claim = (attempt: string): Claim => ({ tokenHash: 't', fingerprint: 'f', attempt });
const options = { markMs: 1_000, recordMs: 60_000 };
const success = { kind: 'success' as const, record: { id: 1 } };

test('a claimed key is in flight until its mark expires, then unknown; settling records the outcome', async () => {
  let now = 0;
  const store = new MemoryIdempotencyStore({ maxKeys: 10, maxBytes: 1 << 20, now: () => now });
  expect(await store.claim('k', claim('1'), options)).toEqual({ status: 'free' });
  expect((await store.claim('k', claim('2'), options)).status).toBe('in_flight');
  now = 1_000;
  expect((await store.read('k')).status).toBe('unknown');
  await store.settle('k', claim('2'), success, options.recordMs); // not the claiming attempt: ignored
  expect((await store.read('k')).status).toBe('unknown');
  await store.settle('k', claim('1'), success, options.recordMs);
  expect(await store.read('k')).toMatchObject({ status: 'settled', record: { outcome: success } });
  now += options.recordMs;
  expect(await store.read('k')).toEqual({ status: 'free' });
});

test('full: the oldest settled record is evicted, never one in flight; full of calls in flight, claims are refused', async () => {
  const store = new MemoryIdempotencyStore({ maxKeys: 2, maxBytes: 1 << 20 });
  await store.claim('old', claim('1'), options);
  await store.settle('old', claim('1'), success, options.recordMs);
  await store.claim('flying', claim('2'), options);
  expect(await store.claim('new', claim('3'), options)).toEqual({ status: 'free' });
  expect(await store.read('old')).toEqual({ status: 'free' });
  expect((await store.read('flying')).status).toBe('in_flight');
  await expect(store.claim('more', claim('4'), options)).rejects.toBeInstanceOf(IdempotencyStoreUnavailable);
});

test('bytes: recorded answers past IDEMPOTENCY_MAX_BYTES evict the oldest', async () => {
  const store = new MemoryIdempotencyStore({ maxKeys: 100, maxBytes: 300 });
  const big = { kind: 'success' as const, record: { message: 'm'.repeat(100) } };
  for (const key of ['a', 'b', 'c']) {
    await store.claim(key, claim(key), options);
    await store.settle(key, claim(key), big, options.recordMs);
  }
  expect(await store.read('a')).toEqual({ status: 'free' });
  expect((await store.read('c')).status).toBe('settled');
});
