// Runs a keyed award at most once per key: the first request claims the key before its POST
// leaves and records what it ended in; a repeat (same token, same arguments) waits while the
// first is in flight, on this instance or another, then replays its answer without a POST.

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { GraphQLError } from 'graphql';
import type { Logger } from '../logging.js';
import { AmbassadorNotFoundError, ErrorCode, ValidationError } from '../schema/errors.js';
import type { ChallengeHistoryRecord } from '../upstream/types.js';
import { fingerprintOf, hashToken } from './keys.js';
import type { AwardArguments } from './keys.js';
import { decodeRecord, encodeRecord } from './record-codec.js';
import { IdempotencyStoreUnavailable } from './store.js';
import type { Claim, IdempotencyStore, KeyState, RecordedOutcome } from './store.js';

/** How often a repeat looks at the store while another instance holds the key. */
const POLL_MS = 25;
/** Claims tried when a key is freed under a waiting repeat (the first was refused); then the repeat gives up. */
const MAX_CLAIMS = 3;

export interface IdempotencyOptions {
  store: IdempotencyStore;
  /** Life of the in-flight mark: the upstream deadline plus a margin for the store's own calls. */
  markMs: number;
  /** Life of a record (IDEMPOTENCY_TTL_S). */
  recordMs: number;
  logger: Logger;
  /** Told of every keyed request refused because the store could not answer (a metric). */
  onStoreUnavailable(): void;
}

/** Successes that are a replay of an earlier request's answer (AddChallengeHistorySuccess.replayed). */
const replayedRecords = new WeakSet<ChallengeHistoryRecord>();

export function isReplayed(record: ChallengeHistoryRecord): boolean {
  return replayedRecords.has(record);
}

export class Idempotency {
  /** Keys whose first request runs on this instance: a repeat here waits for it without polling. */
  private readonly local = new Map<string, Promise<void>>();

  constructor(private readonly options: IdempotencyOptions) {}

  async run(key: string, token: string, args: AwardArguments, post: () => Promise<ChallengeHistoryRecord>): Promise<ChallengeHistoryRecord> {
    const claim: Claim = { tokenHash: hashToken(token), fingerprint: fingerprintOf(args), attempt: randomUUID() };
    const { markMs, recordMs } = this.options;
    for (let claims = 0; claims < MAX_CLAIMS; claims++) {
      const state = await this.ask(() => this.options.store.claim(key, claim, { markMs, recordMs }), key, claim);
      if (state.status === 'free') return this.first(key, claim, post);
      const outcome = await this.waitWhileInFlight(key, claim, state);
      // Freed: the first ended in a refusal and recorded nothing, so this request runs as a first one.
      if (outcome.status !== 'free') return replay(outcome);
    }
    throw storeUnavailableError();
  }

  close(): Promise<void> {
    return this.options.store.close();
  }

  private async first(key: string, claim: Claim, post: () => Promise<ChallengeHistoryRecord>): Promise<ChallengeHistoryRecord> {
    let settled!: () => void;
    this.local.set(key, new Promise<void>((resolve) => (settled = resolve)));
    try {
      const record = await post();
      await this.settle(key, claim, { kind: 'success', record: encodeRecord(record) });
      return record;
    } catch (error) {
      await this.settle(key, claim, outcomeToRecord(error));
      throw error;
    } finally {
      this.local.delete(key);
      settled();
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

  private async waitWhileInFlight(key: string, claim: Claim, state: KeyState): Promise<KeyState> {
    const deadline = Date.now() + this.options.markMs + POLL_MS;
    let current = state;
    for (;;) {
      if (current.status === 'free') return current;
      if (current.record.tokenHash !== claim.tokenHash) throw keyReusedError('another caller');
      if (current.record.fingerprint !== claim.fingerprint) throw keyReusedError('other arguments');
      if (current.status !== 'in_flight' || Date.now() > deadline) return current;
      const local = this.local.get(key);
      await (local ? Promise.race([local, sleep(POLL_MS)]) : sleep(POLL_MS));
      current = await this.ask(() => this.options.store.read(key), key, claim);
    }
  }

  private async ask(call: () => Promise<KeyState>, key: string, claim: Claim): Promise<KeyState> {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof IdempotencyStoreUnavailable)) throw error;
      this.options.onStoreUnavailable();
      this.options.logger.warn('idempotency store unavailable', { error: error.message });
      // A claim that timed out may still land: free it again if it did (a no-op otherwise).
      this.options.store.settle(key, claim, null, this.options.recordMs).catch(() => {});
      throw storeUnavailableError();
    }
  }
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

function storeUnavailableError(): GraphQLError {
  return new GraphQLError('The idempotency store cannot be reached, so this keyed award was not sent. Retry with the same key.', {
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
