// The in-memory store's bounds, driven through its interface with a clock the test moves.
// No record leaves before its TTL: a full store refuses new keys.

import { expect, test } from 'vitest';
import { MemoryIdempotencyStore } from '../../src/idempotency/memory-store.js';
import { IdempotencyStoreUnavailable } from '../../src/idempotency/store.js';
import type { Claim } from '../../src/idempotency/store.js';
import { heldMemory } from '../support/memory.js';

const claim = (attempt: string, tokenHash = 't'): Claim => ({ tokenHash, fingerprint: 'f', attempt });
const options = { markMs: 1_000, recordMs: 60_000 };
const success = { kind: 'success' as const, record: { id: 1 } };
const unknown = { kind: 'error' as const, message: 'may exist', extensions: { code: 'UPSTREAM_TIMEOUT', outcomeUnknown: true } };

/** Claims and settles `key` as a success of `token`. */
async function award(store: MemoryIdempotencyStore, key: string, token = 't', outcome: typeof success | typeof unknown = success): Promise<void> {
  expect(await store.claim(key, claim(key, token), options)).toEqual({ status: 'free' });
  await store.settle(key, claim(key, token), outcome, options.recordMs);
}

test('a claimed key is in flight until its mark expires, then unknown; settling records the outcome', async () => {
  let now = 0;
  const store = new MemoryIdempotencyStore({ maxKeys: 10, maxBytes: 1 << 20, maxKeysPerToken: 10, now: () => now });
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

test('full: nothing is evicted, settled or started; new keys are refused until records expire, then fit again', async () => {
  let now = 0;
  const store = new MemoryIdempotencyStore({ maxKeys: 3, maxBytes: 1 << 20, maxKeysPerToken: 3, now: () => now });
  await award(store, 'old');
  now = 10_000;
  await award(store, 'young');
  await store.claim('flying', claim('flying'), options);
  await expect(store.claim('new', claim('new'), options)).rejects.toBeInstanceOf(IdempotencyStoreUnavailable);
  expect((await store.read('old')).status).toBe('settled');
  expect((await store.read('young')).status).toBe('settled');
  expect((await store.read('flying')).status).toBe('in_flight');
  // Freeing a key (the upstream refused the call) makes room at once.
  await store.settle('flying', claim('flying'), null, options.recordMs);
  expect(await store.claim('new', claim('new'), options)).toEqual({ status: 'free' });
  await expect(store.claim('more', claim('more'), options)).rejects.toBeInstanceOf(IdempotencyStoreUnavailable);
  // 'old' expires at its TTL (and not before): its place goes to the next claim.
  now = options.recordMs - 1;
  await expect(store.claim('more', claim('more'), options)).rejects.toBeInstanceOf(IdempotencyStoreUnavailable);
  now = options.recordMs;
  expect(await store.claim('more', claim('more'), options)).toEqual({ status: 'free' });
  expect((await store.read('young')).status).toBe('settled');
});

test('bytes: recorded answers past IDEMPOTENCY_MAX_BYTES are kept (the award happened) and new keys are refused', async () => {
  const store = new MemoryIdempotencyStore({ maxKeys: 100, maxBytes: 40_000, maxKeysPerToken: 100 });
  const big = { kind: 'success' as const, record: { message: 'm'.repeat(12_000) } };
  for (const key of ['a', 'b', 'c']) {
    await store.claim(key, claim(key), options);
    await store.settle(key, claim(key), big, options.recordMs);
  }
  await expect(store.claim('d', claim('d'), options)).rejects.toBeInstanceOf(IdempotencyStoreUnavailable);
  for (const key of ['a', 'b', 'c']) expect((await store.read(key)).status).toBe('settled');
});

test("one token holds at most its share of keys and bytes; another caller's claims still fit", async () => {
  const store = new MemoryIdempotencyStore({ maxKeys: 100, maxBytes: 1 << 20, maxKeysPerToken: 10 });
  for (let i = 0; i < 10; i++) await award(store, `a${i}`, 'alice');
  await expect(store.claim('a10', claim('a10', 'alice'), options)).rejects.toThrow(/share/);
  await award(store, 'b0', 'bob');
  expect(store.size).toBe(11);
});

test('callers without a recorded success share a tenth of the store; a success takes its token out of that pool', async () => {
  const store = new MemoryIdempotencyStore({ maxKeys: 100, maxBytes: 1 << 20, maxKeysPerToken: 100 });
  // Ten bogus tokens' claims wait for their 401: the eleventh unproven claim is refused.
  for (let i = 0; i < 10; i++) await store.claim(`bogus${i}`, claim(`bogus${i}`, `bogus${i}`), options);
  await expect(store.claim('bogus10', claim('bogus10', 'bogus10'), options)).rejects.toThrow(/without a recorded award/);
  // An unknown outcome of an unproven caller stays in its pool; the 401 frees a claim at once.
  await store.settle('bogus0', claim('bogus0', 'bogus0'), unknown, options.recordMs);
  await store.settle('bogus1', claim('bogus1', 'bogus1'), null, options.recordMs);
  await award(store, 'new-caller', 'carol');
  expect(await store.claim('bogus11', claim('bogus11', 'bogus11'), options)).toEqual({ status: 'free' });
  await expect(store.claim('bogus12', claim('bogus12', 'bogus12'), options)).rejects.toThrow(/without a recorded award/);
  // Carol's success proved her token: her next claims no longer count in the pool, up to the whole store.
  for (let i = 0; i < 80; i++) await award(store, `carol${i}`, 'carol');
  expect(store.size).toBe(91);
});

test('the bytes charged cover the heap a full store holds, so IDEMPOTENCY_MAX_BYTES bounds memory', async () => {
  const store = new MemoryIdempotencyStore({ maxKeys: 20_000, maxBytes: 1 << 30, maxKeysPerToken: 20_000 });
  const record = { kind: 'success' as const, record: { id: 1, points: 0, score: 0, message: null, ambassador: { id: 7, fullName: 'Ada Lovelace' } } };
  const before = heldMemory();
  for (let i = 0; i < 20_000; i++) {
    const token = (i % 1000).toString(16).padStart(64, '0');
    const key = `${i}`.padStart(36, '0');
    const each = { tokenHash: `${token}`, fingerprint: `${i}`.padStart(64, 'f'), attempt: `${i}`.padStart(36, 'a') };
    await store.claim(key, each, options);
    await store.settle(key, each, record, options.recordMs);
  }
  const held = heldMemory() - before;
  console.log(`20,000 records: ${(held / 2 ** 20).toFixed(1)} MiB held, ${(store.heldBytes / 2 ** 20).toFixed(1)} MiB charged`);
  expect(store.heldBytes).toBeGreaterThanOrEqual(held);
  await expect(store.claim('full', claim('full'), options)).rejects.toBeInstanceOf(IdempotencyStoreUnavailable);
});
