// What a client gets when src/idempotency/ refuses a keyed award or answers it without sending:
// its refusals as coded errors, and what a first award's failure leaves for its repeats.

import { GraphQLError } from 'graphql';
import type { IdempotencyRefusalReason, RecordedFailure } from '../idempotency/index.js';
import type { StoreUnavailableReason } from '../idempotency/index.js';
import { AmbassadorNotFoundError } from '../upstream/errors.js';
import { codedError } from './factory.js';
import { ErrorCode, isErrorCode } from './registry.js';
import { ValidationError } from './results.js';

const REPLAY_NOTE =
  'This is the recorded answer of the first request with this idempotency key; it is never sent again. ' +
  'Check whether the award exists before using a new key.';

/** What a refused keyed award says, by why: every one of them was not sent, and a retry with the same key is safe. */
const STORE_UNAVAILABLE_MESSAGES: Record<StoreUnavailableReason, string> = {
  unreachable: 'The idempotency store cannot be reached, so this keyed award was not sent. Retry with the same key.',
  full: 'The idempotency store is full, so this keyed award was not sent. Retry with the same key later.',
  unfit: 'The idempotency store may lose records (its settings are unsafe), so this keyed award was not sent. Retry with the same key later.',
  reset:
    'The idempotency store lost its data moments ago; while awards sent before the loss may still be in flight, this keyed award was not sent. Retry with the same key in a few seconds.',
  replication: 'The idempotency store could not copy the claim to enough replicas in time, so this keyed award was not sent. Retry with the same key.',
};

// Says nothing of the first request beyond the fact that the key is taken.
const KEY_REUSED_MESSAGES = {
  'another caller': 'This idempotency key is already in use by another caller: choose a new random key for this award.',
  'other arguments': 'This idempotency key was already used for an award with other arguments: use a new key for a different award.',
} as const;

function outcomeUnknownError(): GraphQLError {
  return codedError(
    ErrorCode.OUTCOME_UNKNOWN,
    'The first request with this idempotency key ended without a known outcome: the award may exist. ' +
      'It is never sent again with this key; check whether the award exists before using a new key.',
    { outcomeUnknown: true },
  );
}

/** The coded error a client gets for an idempotency refusal. */
export function idempotencyRefusalError(reason: IdempotencyRefusalReason): GraphQLError {
  switch (reason.kind) {
    case 'key_reused':
      return codedError(ErrorCode.IDEMPOTENCY_KEY_REUSED, KEY_REUSED_MESSAGES[reason.by], { outcomeUnknown: false });
    case 'store_unavailable':
      return codedError(ErrorCode.IDEMPOTENCY_STORE_UNAVAILABLE, STORE_UNAVAILABLE_MESSAGES[reason.reason], { outcomeUnknown: false });
    case 'outcome_unknown':
      return outcomeUnknownError();
    case 'replayed_failure': {
      const { message, extensions } = reason.failure;
      const code = isErrorCode(extensions.code) ? extensions.code : ErrorCode.OUTCOME_UNKNOWN;
      return codedError(code, `${message} ${REPLAY_NOTE}`, { ...extensions, replayed: true });
    }
  }
}

/**
 * What the first award's failure leaves for its repeats: the coded error when the award may
 * exist; nothing (the key is free again) for a refusal or a call never sent; and an unknown
 * outcome for an error that is neither (a bug after the POST may have left).
 */
export function classifyAwardFailure(error: unknown): RecordedFailure | null {
  if (error instanceof AmbassadorNotFoundError || error instanceof ValidationError) return null;
  if (error instanceof GraphQLError) {
    return error.extensions.outcomeUnknown === true ? { message: error.message, extensions: { ...error.extensions } } : null;
  }
  const unknown = outcomeUnknownError();
  return { message: unknown.message, extensions: { ...unknown.extensions } };
}
