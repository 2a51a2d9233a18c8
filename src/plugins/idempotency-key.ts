// The idempotency dialects HTTP clients already speak: the `Idempotency-Key` request header
// (draft-ietf-httpapi-idempotency-key-header), which retry middleware sets, and the
// `Idempotent-Replayed: true` answer header (Stripe's), which it reads.
//
// The header names one award, so it is taken only by a request whose operation has exactly one
// addChallengeHistory field: it is that field's key (schema/challenge-history.ts applies it, with
// the rules of input.idempotencyKey). A batch field, several award fields or several operations
// have no single award to name: the request is refused before anything runs. Requests with the
// header never take the fast lane (lane/fast-lane.ts asks `carriesIdempotencyKey`); the answer header
// is a request observer, so it is set on both paths, whichever way the key came.

import type { IncomingHttpHeaders } from 'node:http';
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { answeredOnlyReplays } from '../schema/context.js';
import { rootFieldsOf } from '../schema/operation-walk.js';
import { codedError } from '../errors/factory.js';
import { ErrorCode } from '../errors/registry.js';
import type { RequestObserver } from '../telemetry/observers.js';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed';

const AWARD_FIELD = 'addChallengeHistory';
const BATCH_FIELD = 'addChallengeHistories';

/** Whether a request carries the header (such requests are Yoga's: this plugin checks their shape). */
export function carriesIdempotencyKey(headers: IncomingHttpHeaders): boolean {
  return headers[IDEMPOTENCY_KEY_HEADER] !== undefined;
}

const refused = (message: string) =>
  codedError(ErrorCode.BAD_USER_INPUT, `${message} Nothing was sent.`, { http: { status: 400 } });

/** Refuses a request with the header whose operations do not have exactly one award field between them. */
export function useIdempotencyKeyHeader(): Plugin {
  return {
    onRequestParse: ({ request }) => ({
      onRequestParseDone({ requestParserResult }) {
        if (!request.headers.has(IDEMPOTENCY_KEY_HEADER) || !Array.isArray(requestParserResult) || requestParserResult.length < 2) return;
        throw refused(
          `An Idempotency-Key header names one award, but this request carries ${requestParserResult.length} operations: ` +
            'send them one per request, or give each award its own input.idempotencyKey.',
        );
      },
    }),
    onExecute({ args, setResultAndStopExecution }) {
      const { request } = args.contextValue as { request: Request };
      if (!request.headers.has(IDEMPOTENCY_KEY_HEADER)) return;
      const operation = getOperationAST(args.document, args.operationName);
      const fields = operation ? rootFieldsOf(args.document, operation) : [];
      // Every occurrence counts: a fragment spread twice selects its award twice.
      const awards = fields.reduce((sum, { node, times }) => (node.name.value === AWARD_FIELD ? sum + times : sum), 0);
      if (fields.some(({ node }) => node.name.value === BATCH_FIELD)) {
        setResultAndStopExecution({
          errors: [refused('An Idempotency-Key header names one award, not a batch: give each item of addChallengeHistories its own input.idempotencyKey.')],
        });
      } else if (awards > 1) {
        setResultAndStopExecution({
          errors: [refused(`An Idempotency-Key header names one award, but this operation has ${awards} addChallengeHistory fields: give each its own input.idempotencyKey.`)],
        });
      }
    },
  };
}

/** `Idempotent-Replayed: true` on an answer whose awards were all replays of recorded successes. */
export const idempotentReplayedHeader: RequestObserver = {
  onEnd: (telemetry, { setHeader }) => {
    if (answeredOnlyReplays(telemetry)) setHeader(IDEMPOTENT_REPLAYED_HEADER, 'true');
  },
};
