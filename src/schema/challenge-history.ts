import { builder } from './builder.js';
import { Ambassador } from './ambassador.js';
import { Challenge } from './challenge.js';
import { ValidationError } from '../errors/results.js';
import { AmbassadorNotFoundError } from '../upstream/errors.js';
import type { FieldErrorShape } from '../errors/results.js';
import { codedError } from '../errors/factory.js';
import { ErrorCode } from '../errors/registry.js';
import { noteAwardAnswered } from './context.js';
import type { GatewayContext, IdempotencyKeyHeader } from './context.js';
import { IDEMPOTENCY_KEY_RULE, isReplayed, isValidIdempotencyKey } from '../idempotency/index.js';
import type { WriteField } from '../datasource/api.js';
import { INVALID_ID_MESSAGE, parseUpstreamId } from '../upstream/ids.js';
import type { ChallengeHistoryRecord } from '../upstream/types.js';

export const ChallengeHistory = builder.objectRef<ChallengeHistoryRecord>('ChallengeHistory').implement({
  description: 'A record that an ambassador completed a challenge and was awarded points.',
  fields: (t) => ({
    id: t.exposeID('id', { nullable: false }),
    ambassador: t.expose('ambassador', { type: Ambassador }),
    challenge: t.expose('challenge', { type: Challenge }),
    message: t.exposeString('message'),
    score: t.exposeFloat('score'),
    points: t.exposeFloat('points'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

export const AddChallengeHistoryInput = builder.inputType('AddChallengeHistoryInput', {
  fields: (t) => ({
    points: t.float({ required: true, description: 'Points awarded.' }),
    score: t.float({ required: true }),
    message: t.string(),
    challengeId: t.id({ description: 'The challenge completed; a positive integer id.' }),
    idempotencyKey: t.string({
      description:
        'Names this intended award (a random UUID, reused on every retry of it): a repeat with the same key and ' +
        'arguments answers the first request\'s outcome instead of awarding again. 1-255 printable ASCII characters ' +
        'without spaces. Never sent upstream.',
    }),
  }),
});

export interface AddChallengeHistoryArgs {
  ambassadorId: string;
  input: { points: number; score: number; message?: string | null; challengeId?: string | null; idempotencyKey?: string | null };
}

/** Where each upstream field name came from in the operation, for FieldError.path. */
const ARGUMENT_PATHS: Record<string, readonly string[]> = {
  id: ['ambassadorId'],
  points: ['input', 'points'],
  score: ['input', 'score'],
  message: ['input', 'message'],
  challenge_id: ['input', 'challengeId'],
};

/** What an award's failure says: what may exist when its outcome is unknown, and where a 422's fields came from. */
const AWARD: WriteField = { mayExist: 'The challenge history may have been recorded', argumentPaths: ARGUMENT_PATHS };

const FINITE_FIELDS = ['points', 'score'] as const;

const KEY_PATH = ['input', 'idempotencyKey'];
export const IDEMPOTENCY_KEY_HEADER_RULE =
  'The Idempotency-Key header must be a key of 1 to 255 printable ASCII characters without spaces, quoted ("8e03978e-...") or bare.';
export const IDEMPOTENCY_KEYS_DIFFER =
  'The Idempotency-Key header and input.idempotencyKey name different keys: send one of them, or the same key in both.';

/**
 * The whole of addChallengeHistory for one ambassador: the checks of its arguments, then the
 * upstream POST (never retried). Throws AmbassadorNotFoundError or ValidationError (typed
 * results) or a coded GraphQLError. `header` is the request's Idempotency-Key header, given only
 * to the request's one award field (plugins/idempotency-key.ts refuses any other shape).
 */
export async function addChallengeHistory(
  ctx: GatewayContext,
  args: AddChallengeHistoryArgs,
  header: IdempotencyKeyHeader | null = null,
): Promise<ChallengeHistoryRecord> {
  let replayed = false;
  try {
    const record = await checkedAward(ctx, args, header);
    replayed = isReplayed(record);
    return record;
  } finally {
    noteAwardAnswered(ctx.telemetry, replayed);
  }
}

async function checkedAward(
  ctx: GatewayContext,
  { ambassadorId, input }: AddChallengeHistoryArgs,
  header: IdempotencyKeyHeader | null,
): Promise<ChallengeHistoryRecord> {
  const id = parseUpstreamId(ambassadorId);
  const challengeId = input.challengeId == null ? null : parseUpstreamId(input.challengeId);
  const refused: FieldErrorShape[] = [];
  if (id === null) refused.push({ field: 'id', path: ['ambassadorId'], messages: [`ambassadorId ${INVALID_ID_MESSAGE}.`] });
  if (input.challengeId != null && challengeId === null) {
    refused.push({ field: 'challenge_id', path: ['input', 'challengeId'], messages: [`challengeId ${INVALID_ID_MESSAGE}.`] });
  }
  // A Float literal such as 1e400 parses to Infinity, which JSON would send upstream as null.
  for (const field of FINITE_FIELDS) {
    if (!Number.isFinite(input[field])) {
      refused.push({ field, path: [...ARGUMENT_PATHS[field]!], messages: [`${field} must be a finite number.`] });
    }
  }
  if (input.idempotencyKey != null && !isValidIdempotencyKey(input.idempotencyKey)) {
    refused.push({ field: 'idempotencyKey', path: KEY_PATH, messages: [IDEMPOTENCY_KEY_RULE] });
  }
  let idempotencyKey = input.idempotencyKey;
  if (header !== null) {
    if (header.key === null || !isValidIdempotencyKey(header.key)) {
      refused.push({ field: 'idempotencyKey', path: KEY_PATH, messages: [IDEMPOTENCY_KEY_HEADER_RULE] });
    } else if (idempotencyKey != null && idempotencyKey !== header.key) {
      refused.push({ field: 'idempotencyKey', path: KEY_PATH, messages: [IDEMPOTENCY_KEYS_DIFFER] });
    }
    idempotencyKey = header.key;
  }
  if (id === null || refused.length > 0) {
    throw new ValidationError(refused.map((f) => f.messages[0]).join(' '), refused);
  }
  return ctx.api.addChallengeHistory(id, { ...input, challengeId, idempotencyKey }, AWARD);
}

/** The field builder of an object type whose parent is a ChallengeHistoryRecord (the success type's fields). */
type ResultFieldBuilder = Parameters<
  NonNullable<Parameters<ReturnType<typeof builder.objectRef<ChallengeHistoryRecord>>['implement']>[0]['fields']>
>[0];

/** Shared by every field whose result is AddChallengeHistoryResult, so they name one union. */
export const addChallengeHistoryErrors = {
  types: [AmbassadorNotFoundError, ValidationError],
  union: { name: 'AddChallengeHistoryResult' },
  result: {
    name: 'AddChallengeHistorySuccess',
    fields: (t: ResultFieldBuilder) => ({
      replayed: t.boolean({
        nullable: false,
        description: 'True when this is the recorded answer of an earlier request with the same idempotencyKey (no new award).',
        resolve: (record: ChallengeHistoryRecord) => isReplayed(record),
      }),
    }),
  },
  dataField: { name: 'challengeHistory' },
};

builder.mutationField('addChallengeHistory', (t) =>
  t.field({
    type: ChallengeHistory,
    nullable: false,
    description:
      'Records that an ambassador completed a challenge and awards the points. Never retried by the gateway: ' +
      'an error with extensions.outcomeUnknown = true means the history may exist.',
    errors: addChallengeHistoryErrors,
    args: {
      ambassadorId: t.arg.id({ required: true }),
      input: t.arg({ type: AddChallengeHistoryInput, required: true }),
    },
    resolve: (_root, args, ctx) => addChallengeHistory(ctx, args, ctx.idempotencyKeyHeader),
  }),
);

const AddChallengeHistoryItemInput = builder.inputType('AddChallengeHistoryItemInput', {
  description: 'One award of a batch: the arguments of one addChallengeHistory.',
  fields: (t) => ({
    ambassadorId: t.id({ required: true }),
    input: t.field({ type: AddChallengeHistoryInput, required: true }),
  }),
});

builder.mutationField('addChallengeHistories', (t) =>
  t.field({
    type: [ChallengeHistory],
    nullable: { list: false, items: true },
    description:
      'Runs addChallengeHistory for every item, up to BATCH_CONCURRENCY upstream calls of the request at once, and answers ' +
      'one result per item, in order: each exactly what addChallengeHistory would have answered. An item whose call ended ' +
      'in a coded error is null, with that error in `errors` (path ending at its index). Never retried. After the upstream ' +
      'refuses the token (401/403), items not yet sent are not sent and answer the same code. Refused before any upstream ' +
      'call: a request needing more than MAX_UPSTREAM_CALLS_PER_REQUEST calls (OPERATION_LIMIT_EXCEEDED), and more than ' +
      'BATCH_MAX_ITEMS items (BAD_USER_INPUT).',
    // The same options as addChallengeHistory's `errors`: each item is that field's AddChallengeHistoryResult.
    itemErrors: addChallengeHistoryErrors,
    args: {
      items: t.arg({ type: [AddChallengeHistoryItemInput], required: true }),
    },
    resolve: (_root, { items }, ctx) => {
      const { batchMaxItems } = ctx.config;
      if (items.length > batchMaxItems) {
        throw codedError(ErrorCode.BAD_USER_INPUT, `addChallengeHistories takes at most ${batchMaxItems} items, got ${items.length}.`, {
          maxItems: batchMaxItems,
        });
      }
      // The request's POST limit (BATCH_CONCURRENCY) spaces the calls out, across every batch field of the request.
      return items.map((item) => addChallengeHistory(ctx, item));
    },
  }),
);
