// Runs a keyed operation at most once per key: the first request claims the key before its call
// leaves and records what it ended in; a repeat (same token, same arguments) waits while the
// first is in flight, then replays its answer without a call. On the first's instance a repeat
// waits for it without a store command; on another, repeats share one poller per key.
// It knows no GraphQL: what a result is stored as (the codec), what a failure leaves for its
// repeats (classify) and what a refusal says to a client (src/errors/idempotency-refusals.ts)
// are its caller's.

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../telemetry/logging.js';
import { fingerprintOf, hashToken } from './keys.js';
import { IdempotencyStoreUnavailable } from './store.js';
import type { Claim, IdempotencyStore, KeyState, RecordedOutcome, StoreUnavailableReason } from './store.js';

/** How often an instance looks at the store while another instance holds a key (one poller per key): quick at first, then every 100 ms. */
const POLL_MS = 25;
const MAX_POLL_MS = 100;
/** Claims tried when a key is freed under a waiting repeat (the first was refused); then the repeat gives up. */
const MAX_CLAIMS = 3;

/** A result as the store keeps it (JSON) and back. */
export interface ResultCodec<Result> {
  encode(result: Result): unknown;
  decode(stored: unknown): Result;
}

/** A first request's failure as its repeats are answered: its message and extensions, replayed. */
export interface RecordedFailure {
  message: string;
  extensions: Record<string, unknown>;
}

/** Why a keyed request was refused or answered without running: its caller words it for the client. */
export type IdempotencyRefusalReason =
  /** The key is another caller's, or was used with other arguments: nothing was sent. */
  | { kind: 'key_reused'; by: 'another caller' | 'other arguments' }
  /** The store could not take the claim: nothing was sent, a retry with the same key is safe. */
  | { kind: 'store_unavailable'; reason: StoreUnavailableReason }
  /** The first request's outcome was never recorded: it may have happened. */
  | { kind: 'outcome_unknown' }
  /** The first request's recorded failure, replayed. */
  | { kind: 'replayed_failure'; failure: RecordedFailure };

export class IdempotencyRefusal extends Error {
  constructor(readonly reason: IdempotencyRefusalReason) {
    super(`idempotency: ${reason.kind}`);
    this.name = 'IdempotencyRefusal';
  }
}

export interface IdempotencyOptions<Result> {
  store: IdempotencyStore;
  /** How a success is stored and replayed. */
  codec: ResultCodec<Result>;
  /**
   * What the first request's failure leaves for its repeats: the failure to replay when the
   * operation may have happened, or null when it surely did not (the key is freed, and a repeat
   * runs as a first one).
   */
  classify(error: unknown): RecordedFailure | null;
  /** Life of the in-flight mark: the worst case from claim to settle. */
  markMs: number;
  /** Life of a record (IDEMPOTENCY_TTL_S). */
  recordMs: number;
  logger: Logger;
  /** Told of every keyed request refused because the store could not answer, with why (a metric label). */
  onStoreUnavailable(reason: StoreUnavailableReason): void;
}

/** Successes that are a replay of an earlier request's answer (for an award: AddChallengeHistorySuccess.replayed). */
const replayedResults = new WeakSet<object>();

export function isReplayed(result: object): boolean {
  return replayedResults.has(result);
}

const loggedFailures = new WeakSet<Error>();

/** A wait many repeats share: who holds the key (checked by each) and the state it ends in. */
interface SharedWait {
  holder: Claim;
  ended: Promise<KeyState>;
}

export class Idempotency<Result extends object> {
  /** Keys whose first request runs on this instance: a repeat here waits for its outcome, no store command. */
  private readonly local = new Map<string, SharedWait>();
  /** Keys another instance holds: one poller per key, however many repeats wait here. */
  private readonly pollers = new Map<string, SharedWait>();

  constructor(private readonly options: IdempotencyOptions<Result>) {}

  /** Runs `post` at most once for `key`; `args` are the operation's arguments, in a fixed order. */
  async run(key: string, token: string, args: readonly unknown[], post: () => Promise<Result>): Promise<Result> {
    const claim: Claim = { tokenHash: hashToken(token), fingerprint: fingerprintOf(args), attempt: randomUUID() };
    const { markMs, recordMs } = this.options;
    for (let claims = 0; claims < MAX_CLAIMS; claims++) {
      const waiting = this.local.get(key) ?? this.pollers.get(key);
      let state: KeyState;
      if (waiting) {
        checkHolder(waiting.holder, claim);
        state = await this.refusedOnFailure(waiting.ended);
      } else {
        state = await this.refusedOnFailure(this.options.store.claim(key, claim, { markMs, recordMs }));
        if (state.status === 'free') return this.first(key, claim, post);
        checkHolder(state.record, claim);
        if (state.status === 'in_flight') state = await this.refusedOnFailure(this.waitFor(key, state));
      }
      // Freed: the first ended in a refusal and recorded nothing, so this request runs as a first one.
      if (state.status === 'free') continue;
      checkHolder(state.record, claim); // the key may have been freed and taken by another caller meanwhile
      return this.replay(state);
    }
    throw new IdempotencyRefusal({ kind: 'store_unavailable', reason: 'unreachable' });
  }

  close(): Promise<void> {
    return this.options.store.close();
  }

  private async first(key: string, claim: Claim, post: () => Promise<Result>): Promise<Result> {
    let ended!: (state: KeyState) => void;
    const wait: SharedWait = { holder: claim, ended: new Promise<KeyState>((resolve) => (ended = resolve)) };
    this.local.set(key, wait);
    let outcome: RecordedOutcome | null = null;
    try {
      const record = await post();
      outcome = { kind: 'success', record: this.options.codec.encode(record) };
      await this.settle(key, claim, outcome);
      return record;
    } catch (error) {
      outcome = outcome ?? this.failureToRecord(error);
      await this.settle(key, claim, outcome);
      throw error;
    } finally {
      // Freed, the key may already be another first's here: only this one's wait is removed.
      if (this.local.get(key) === wait) this.local.delete(key);
      // Local repeats replay what this request knows, even when its settle failed.
      ended(outcome === null ? { status: 'free' } : { status: 'settled', record: { ...claim, outcome } });
    }
  }

  /** A failed settle leaves the record started: once its mark expires, repeats answer OUTCOME_UNKNOWN (never a second POST). */
  private async settle(key: string, claim: Claim, outcome: RecordedOutcome | null): Promise<void> {
    try {
      await this.options.store.settle(key, claim, outcome, this.options.recordMs);
    } catch (error) {
      this.options.logger.warn('idempotency record not settled', { error: (error as Error).message });
    }
  }

  /** Waits while another instance holds the key: one poller per key on this instance, shared by every repeat. */
  private waitFor(key: string, state: KeyState & { status: 'in_flight' }): Promise<KeyState> {
    const shared = this.pollers.get(key);
    if (shared) return shared.ended;
    const deadline = Date.now() + this.options.markMs + POLL_MS;
    const poll = async (): Promise<KeyState> => {
      let current: KeyState = state;
      let pause = POLL_MS;
      try {
        while (current.status === 'in_flight' && Date.now() <= deadline) {
          await sleep(pause);
          pause = Math.min(pause * 2, MAX_POLL_MS);
          current = await this.options.store.read(key);
        }
        return current;
      } finally {
        this.pollers.delete(key);
      }
    };
    const ended = poll();
    this.pollers.set(key, { holder: state.record, ended });
    return ended;
  }

  /** The store's answer, or IDEMPOTENCY_STORE_UNAVAILABLE (counted by reason, logged) when it could not give one. */
  private async refusedOnFailure(answer: Promise<KeyState>): Promise<KeyState> {
    try {
      return await answer;
    } catch (error) {
      if (!(error instanceof IdempotencyStoreUnavailable)) throw error;
      this.options.onStoreUnavailable(error.reason);
      // One line per failure, not per repeat: every repeat sharing a poller gets the same error.
      if (!loggedFailures.has(error)) this.options.logger.warn('idempotency store unavailable', { reason: error.reason, error: error.message });
      loggedFailures.add(error);
      throw new IdempotencyRefusal({ kind: 'store_unavailable', reason: error.reason });
    }
  }

  /** What a failure leaves for the repeats: the caller's classification; null frees the key. */
  private failureToRecord(error: unknown): RecordedOutcome | null {
    const failure = this.options.classify(error);
    return failure === null ? null : { kind: 'error', message: failure.message, extensions: failure.extensions };
  }

  /** A settled key's answer: its success decoded (and marked replayed), or its failure; an unsettled one's outcome is unknown. */
  private replay(state: KeyState): Result {
    if (state.status === 'settled' && state.record.outcome.kind === 'success') {
      const result = this.options.codec.decode(state.record.outcome.record);
      replayedResults.add(result);
      return result;
    }
    if (state.status === 'settled' && state.record.outcome.kind === 'error') {
      const { message, extensions } = state.record.outcome;
      throw new IdempotencyRefusal({ kind: 'replayed_failure', failure: { message, extensions } });
    }
    throw new IdempotencyRefusal({ kind: 'outcome_unknown' });
  }
}

/** A repeat must come from the caller that holds the key, with the same arguments. */
function checkHolder(holder: Claim, claim: Claim): void {
  if (holder.tokenHash !== claim.tokenHash) throw new IdempotencyRefusal({ kind: 'key_reused', by: 'another caller' });
  if (holder.fingerprint !== claim.fingerprint) throw new IdempotencyRefusal({ kind: 'key_reused', by: 'other arguments' });
}
