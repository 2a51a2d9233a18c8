// Idempotency.run knows no GraphQL: any operation, any result type, a codec and a classify
// callback given by its caller. Here a plain "transfer" with a Map result stands for it, over the
// memory store; its refusals come out as IdempotencyRefusal, which the gateway words elsewhere.

import { describe, expect, test } from 'vitest';
import { Idempotency, IdempotencyRefusal, MemoryIdempotencyStore, isReplayed } from '../../src/idempotency/index.js';
import type { IdempotencyRefusalReason, RecordedFailure, StoreUnavailableReason } from '../../src/idempotency/index.js';
import { createLogger } from '../../src/telemetry/logging.js';

interface Receipt {
  id: number;
  at: Date;
}

class NothingHappened extends Error {}
class MayHaveHappened extends Error {}

function transfers() {
  const idempotency = new Idempotency<Receipt>({
    store: new MemoryIdempotencyStore({ maxKeys: 100, maxBytes: 1 << 20, maxKeysPerToken: 100 }),
    codec: { encode: (receipt) => ({ id: receipt.id, at: receipt.at.toISOString() }), decode: (stored) => ({ id: (stored as { id: number }).id, at: new Date((stored as { at: string }).at) }) },
    classify: (error): RecordedFailure | null => (error instanceof MayHaveHappened ? { message: error.message, extensions: { kind: 'may-have-happened' } } : null),
    markMs: 2_000,
    recordMs: 60_000,
    logger: createLogger({ level: 'error', write: () => {} }),
    onStoreUnavailable: () => {},
  });
  return { idempotency };
}

async function refusal(run: Promise<unknown>): Promise<IdempotencyRefusalReason> {
  const error = await run.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(IdempotencyRefusal);
  return (error as IdempotencyRefusal).reason;
}

describe('Idempotency.run, with a codec and a classify callback of its caller', () => {
  test('a repeat replays the decoded result, marked replayed, without running again', async () => {
    const { idempotency } = transfers();
    let runs = 0;
    const send = async () => ({ id: ++runs, at: new Date('2026-12-07T10:00:00Z') });
    const first = await idempotency.run('k1', 'token-a', [5, 'EUR'], send);
    const repeat = await idempotency.run('k1', 'token-a', [5, 'EUR'], send);
    expect(runs).toBe(1);
    expect(repeat).toEqual(first);
    expect(repeat.at).toBeInstanceOf(Date);
    expect([isReplayed(first), isReplayed(repeat)]).toEqual([false, true]);
  });

  test('another caller, or other arguments, with the key: refused, nothing run', async () => {
    const { idempotency } = transfers();
    let runs = 0;
    await idempotency.run('k2', 'token-a', [5], async () => ({ id: ++runs, at: new Date() }));
    expect(await refusal(idempotency.run('k2', 'token-b', [5], async () => ({ id: ++runs, at: new Date() })))).toEqual({ kind: 'key_reused', by: 'another caller' });
    expect(await refusal(idempotency.run('k2', 'token-a', [6], async () => ({ id: ++runs, at: new Date() })))).toEqual({ kind: 'key_reused', by: 'other arguments' });
    expect(runs).toBe(1);
  });

  test('a failure classify records is replayed as it was; one it frees lets the repeat run as a first', async () => {
    const { idempotency } = transfers();
    await expect(idempotency.run('k3', 'token-a', [1], async () => Promise.reject(new MayHaveHappened('timed out')))).rejects.toThrow('timed out');
    expect(await refusal(idempotency.run('k3', 'token-a', [1], async () => ({ id: 1, at: new Date() })))).toEqual({
      kind: 'replayed_failure',
      failure: { message: 'timed out', extensions: { kind: 'may-have-happened' } },
    });

    await expect(idempotency.run('k4', 'token-a', [1], async () => Promise.reject(new NothingHappened('refused')))).rejects.toThrow('refused');
    const second = await idempotency.run('k4', 'token-a', [1], async () => ({ id: 7, at: new Date() }));
    expect(second.id).toBe(7);
    expect(isReplayed(second)).toBe(false);
  });

  test('a full store refuses a new key unsent, with its reason', async () => {
    const unavailable: StoreUnavailableReason[] = [];
    const idempotency = new Idempotency<Receipt>({
      store: new MemoryIdempotencyStore({ maxKeys: 1, maxBytes: 1 << 20, maxKeysPerToken: 1 }),
      codec: { encode: (receipt) => receipt, decode: (stored) => stored as Receipt },
      classify: () => null,
      markMs: 2_000,
      recordMs: 60_000,
      logger: createLogger({ level: 'error', write: () => {} }),
      onStoreUnavailable: (reason) => unavailable.push(reason),
    });
    await idempotency.run('a', 'token-a', [], async () => ({ id: 1, at: new Date() }));
    let ran = false;
    const second = idempotency.run('b', 'token-a', [], async () => {
      ran = true;
      return { id: 2, at: new Date() };
    });
    expect(await refusal(second)).toEqual({ kind: 'store_unavailable', reason: 'full' });
    expect(ran).toBe(false);
    expect(unavailable).toEqual(['full']);
  });
});
