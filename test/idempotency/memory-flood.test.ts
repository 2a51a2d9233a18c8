// The in-memory store under the floods an attacker can send (issue 17, finding 1): keyed awards
// with bogus tokens (claimed, then refused 401 by the upstream), and one valid token's flood.
// No other caller's record may go before its TTL, so no victim's retry is ever POSTed twice.

import { afterEach, expect, test } from 'vitest';
import type { TestGateway } from '../support/gateway.js';
import { challengeHistoryBody, startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { RecordedRequest, ScriptableUpstream } from '../support/scriptable-upstream.js';
import { codedError, keyedAdd, startKeyedGateway } from './keyed.js';

const VICTIM = 'victim-token-';
const BOGUS = 'bogus-token-';

let upstream: ScriptableUpstream;
let gw: TestGateway;
afterEach(async () => {
  await gw?.close();
  await upstream?.close();
});

/** Bogus-token POSTs the upstream holds at once (each waits `refusalMs` for its 401), and the most seen. */
const bogus = { inFlight: 0, most: 0 };

/** The upstream accepts every token but bogus ones, which it refuses 401 after `refusalMs`. */
async function start(env: Record<string, string>, refusalMs: number): Promise<void> {
  upstream = await startScriptableUpstream();
  Object.assign(bogus, { inFlight: 0, most: 0 });
  upstream.respondWith(async (request) => {
    if (!tokenOf(request).startsWith(BOGUS)) return { status: 201, body: challengeHistoryBody() };
    bogus.most = Math.max(bogus.most, ++bogus.inFlight);
    await new Promise((resolve) => setTimeout(resolve, refusalMs));
    bogus.inFlight--;
    return { status: 401 };
  });
  // A deadline far past the slowest 401 on a loaded machine: every bogus call ends refused, none unknown.
  gw = await startKeyedGateway(upstream.url, { UPSTREAM_TIMEOUT_MS: '10000', ...env });
}

const tokenOf = (request: RecordedRequest) => String(request.headers.authorization).replace(/^Bearer /, '');
const postsBy = (prefix: string) => upstream.requests.filter((r) => r.method === 'POST' && tokenOf(r).startsWith(prefix)).length;

/** Each victim (its own token) awards once, ten at a time (a new caller's claims share a tenth of the store); answers the keys. */
async function victimsAward(count: number, from = 0): Promise<string[]> {
  const keys = Array.from({ length: count }, (_, i) => `victim-key-${from + i}`);
  for (let i = 0; i < count; i += 10) {
    const answers = await Promise.all(keys.slice(i, i + 10).map((key, j) => keyedAdd(gw, key, { token: `${VICTIM}${from + i + j}` })));
    for (const answer of answers) expect(answer.body.data.addChallengeHistory).toMatchObject({ replayed: false });
  }
  return keys;
}

/** Every victim retries its key: each must replay (no second POST). */
async function victimsRetry(keys: string[], from = 0): Promise<void> {
  const retries = await Promise.all(keys.map((key, i) => keyedAdd(gw, key, { token: `${VICTIM}${from + i}` })));
  expect(retries.map((r) => r.body.data?.addChallengeHistory?.replayed ?? codedError(r)?.code)).toEqual(keys.map(() => true));
}

const bogusFlood = (count: number) =>
  Promise.all(Array.from({ length: count }, (_, i) => keyedAdd(gw, `bogus-key-${i}`, { token: `${BOGUS}${i}` })));

test.each([0, 300])('a full store of 100: 100 concurrent bogus-token awards (401 after %i ms) make no victim POST twice', async (refusalMs) => {
  await start({ IDEMPOTENCY_MAX_KEYS: '100' }, refusalMs);
  const keys = await victimsAward(100);
  const flood = await bogusFlood(100);
  for (const answer of flood) expect(['UNAUTHENTICATED', 'IDEMPOTENCY_STORE_UNAVAILABLE']).toContain(codedError(answer)?.code);
  await victimsRetry(keys);
  expect(postsBy(VICTIM)).toBe(100);
  // Full: nothing was evicted for the flood, so its claims were refused before anything was sent.
  expect(postsBy(BOGUS)).toBe(0);
});

test('a store of 100 holding 20 records: a slow bogus flood takes no record and leaves room for accepted callers', async () => {
  await start({ IDEMPOTENCY_MAX_KEYS: '100' }, 500);
  const keys = await victimsAward(20);
  const flood = bogusFlood(100);
  await new Promise((resolve) => setTimeout(resolve, 100));
  // While the flood's claims wait for their 401, an accepted caller's new award is still served.
  const fresh = await keyedAdd(gw, 'victim-key-fresh', { token: `${VICTIM}0` });
  expect(fresh.body.data.addChallengeHistory).toMatchObject({ replayed: false });
  const answers = await flood;
  for (const answer of answers) expect(['UNAUTHENTICATED', 'IDEMPOTENCY_STORE_UNAVAILABLE']).toContain(codedError(answer)?.code);
  // At most a tenth of the store held claims of callers the upstream had not accepted, at any moment.
  expect(bogus.most).toBeGreaterThan(0);
  expect(bogus.most).toBeLessThanOrEqual(10);
  await victimsRetry(keys);
  expect(postsBy(VICTIM)).toBe(21);
  // The refused tokens' claims were freed at once: the same bogus keys claim (and are refused) again.
  expect(codedError(await keyedAdd(gw, 'bogus-key-0', { token: `${BOGUS}0` }))?.code).toBe('UNAUTHENTICATED');
});

test("one valid token's flood of zero-point awards takes at most its share and evicts no other caller's record", async () => {
  await start({ IDEMPOTENCY_MAX_KEYS: '100', IDEMPOTENCY_MAX_KEYS_PER_TOKEN: '10' }, 0);
  const keys = await victimsAward(5, 1);
  const flooder = { token: `${VICTIM}0`, input: { points: 0 } };
  const answers: string[] = [];
  for (let round = 0; round < 6; round++) {
    const batch = await Promise.all(Array.from({ length: 25 }, (_, i) => keyedAdd(gw, `flood-${round}-${i}`, flooder)));
    answers.push(...batch.map((r) => (r.body.data?.addChallengeHistory ? 'awarded' : String(codedError(r)?.code))));
  }
  expect(answers.filter((a) => a === 'awarded').length).toBe(10);
  expect(answers.filter((a) => a === 'IDEMPOTENCY_STORE_UNAVAILABLE').length).toBe(140);
  expect(postsBy(`${VICTIM}0`)).toBe(10);
  await victimsRetry(keys, 1);
  expect(postsBy(VICTIM)).toBe(15);
  // The flooder's own awards still replay: its share is full, not lost.
  expect((await keyedAdd(gw, 'flood-0-0', flooder)).body.data.addChallengeHistory.replayed).toBe(true);
});
