// Runs a keyed award at most once per key: the first request claims the key before its POST
// leaves and records what it ended in; a repeat (same token, same arguments) waits while the
// first is in flight, then replays its answer without a POST. On the first's instance a repeat
// waits for it without a store command; on another, repeats share one poller per key.

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { GraphQLError } from 'graphql';
import type { Logger } from '../telemetry/logging.js';
import { AmbassadorNotFoundError, ErrorCode, ValidationError } from '../schema/errors.js';
import type { ChallengeHistoryRecord } from '../upstream/types.js';
import { fingerprintOf, hashToken } from './keys.js';
import type { AwardArguments } from './keys.js';
import { decodeRecord, encodeRecord } from './record-codec.js';
import { IdempotencyStoreUnavailable } from './store.js';
import type { Claim, IdempotencyStore, KeyState, RecordedOutcome, StoreUnavailableReason } from './store.js';

/** How often an instance looks at the store while another instance holds a key (one poller per key): quick at first, then every 100 ms. */
const POLL_MS = 25;
const MAX_POLL_MS = 100;
/** Claims tried when a key is freed under a waiting repeat (the first was refused); then the repeat gives up. */
const MAX_CLAIMS = 3;

export interface IdempotencyOptions {
  store: IdempotencyStore;
  /** Life of the in-flight mark: the worst case from claim to settle. */
  markMs: number;
  /** Life of a record (IDEMPOTENCY_TTL_S). */
  recordMs: number;
  logger: Logger;
  /** Told of every keyed request refused because the store could not answer, with why (a metric label). */
  onStoreUnavailable(reason: StoreUnavailableReason): void;
}

/** Successes that are a replay of an earlier request's answer (AddChallengeHistorySuccess.replayed). */
const replayedRecords = new WeakSet<ChallengeHistoryRecord>();

export function isReplayed(record: ChallengeHistoryRecord): boolean {
  return replayedRecords.has(record);
}

const loggedFailures = new WeakSet<Error>();

/** A wait many repeats share: who holds the key (checked by each) and the state it ends in. */
interface SharedWait {
  holder: Claim;
  ended: Promise<KeyState>;
}

export class Idempotency {
  /** Keys whose first request runs on this instance: a repeat here waits for its outcome, no store command. */
  private readonly local = new Map<string, SharedWait>();
  /** Keys another instance holds: one poller per key, however many repeats wait here. */
  private readonly pollers = new Map<string, SharedWait>();

  constructor(private readonly options: IdempotencyOptions) {}

  async run(key: string, token: string, args: AwardArguments, post: () => Promise<ChallengeHistoryRecord>): Promise<ChallengeHistoryRecord> {
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
      return replay(state);
    }
    throw storeUnavailableError('unreachable');
  }

  close(): Promise<void> {
    return this.options.store.close();
  }

  private async first(key: string, claim: Claim, post: () => Promise<ChallengeHistoryRecord>): Promise<ChallengeHistoryRecord> {
    let ended!: (state: KeyState) => void;
    const wait: SharedWait = { holder: claim, ended: new Promise<KeyState>((resolve) => (ended = resolve)) };
    this.local.set(key, wait);
    let outcome: RecordedOutcome | null = null;
    try {
      const record = await post();
      outcome = { kind: 'success', record: encodeRecord(record) };
      await this.settle(key, claim, outcome);
      return record;
    } catch (error) {
      outcome = outcome ?? outcomeToRecord(error);
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
      throw storeUnavailableError(error.reason);
    }
  }
}

/** A repeat must come from the caller that holds the key, with the same arguments. */
function checkHolder(holder: Claim, claim: Claim): void {
  if (holder.tokenHash !== claim.tokenHash) throw keyReusedError('another caller');
  if (holder.fingerprint !== claim.fingerprint) throw keyReusedError('other arguments');
}

/**
 * What the first request's failure leaves for its repeats: the coded error when the award may
 * exist; nothing (the key is free again) for a refusal or a call never sent; and an unknown
 * outcome for an error that is neither (a bug after the POST may have left).
 */
function outcomeToRecord(error: unknown): RecordedOutcome | null {
  if (error instanceof AmbassadorNotFoundError || error instanceof ValidationError) return null;
  if (error instanceof GraphQLError) {
    return error.extensions.outcomeUnknown === true ? { kind: 'error', message: error.message, extensions: { ...error.extensions } } : null;
  }
  const unknown = outcomeUnknownError();
  return { kind: 'error', message: unknown.message, extensions: { ...unknown.extensions } };
}

function replay(state: KeyState): ChallengeHistoryRecord {
  if (state.status === 'settled' && state.record.outcome.kind === 'success') {
    const record = decodeRecord(state.record.outcome.record);
    replayedRecords.add(record);
    return record;
  }
  if (state.status === 'settled' && state.record.outcome.kind === 'error') {
    const { message, extensions } = state.record.outcome;
    throw new GraphQLError(`${message} ${REPLAY_NOTE}`, { extensions: { ...extensions, replayed: true } });
  }
  throw outcomeUnknownError();
}

const REPLAY_NOTE =
  'This is the recorded answer of the first request with this idempotency key; it is never sent again. ' +
  'Check whether the award exists before using a new key.';

function keyReusedError(what: 'another caller' | 'other arguments'): GraphQLError {
  // Says nothing of the first request beyond the fact that the key is taken.
  const message =
    what === 'another caller'
      ? 'This idempotency key is already in use by another caller: choose a new random key for this award.'
      : 'This idempotency key was already used for an award with other arguments: use a new key for a different award.';
  return new GraphQLError(message, { extensions: { code: ErrorCode.IDEMPOTENCY_KEY_REUSED, outcomeUnknown: false } });
}

/** What a refused keyed award says, by why: every one of them was not sent, and a retry with the same key is safe. */
const STORE_UNAVAILABLE_MESSAGES: Record<StoreUnavailableReason, string> = {
  unreachable: 'The idempotency store cannot be reached, so this keyed award was not sent. Retry with the same key.',
  full: 'The idempotency store is full, so this keyed award was not sent. Retry with the same key later.',
  unfit: 'The idempotency store may lose records (its settings are unsafe), so this keyed award was not sent. Retry with the same key later.',
  reset:
    'The idempotency store lost its data moments ago; while awards sent before the loss may still be in flight, this keyed award was not sent. Retry with the same key in a few seconds.',
  replication: 'The idempotency store could not copy the claim to enough replicas in time, so this keyed award was not sent. Retry with the same key.',
};

function storeUnavailableError(reason: StoreUnavailableReason): GraphQLError {
  return new GraphQLError(STORE_UNAVAILABLE_MESSAGES[reason], {
    extensions: { code: ErrorCode.IDEMPOTENCY_STORE_UNAVAILABLE, outcomeUnknown: false },
  });
}

function outcomeUnknownError(): GraphQLError {
  return new GraphQLError(
    'The first request with this idempotency key ended without a known outcome: the award may exist. ' +
      'It is never sent again with this key; check whether the award exists before using a new key.',
    { extensions: { code: ErrorCode.OUTCOME_UNKNOWN, outcomeUnknown: true } },
  );
}
