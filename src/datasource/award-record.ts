// A challenge history as the idempotency store keeps it (JSON) and back: the Date fields are the
// only ones JSON does not round-trip.

import type { ResultCodec } from '../idempotency/index.js';
import type { ChallengeHistoryRecord } from '../upstream/types.js';

type Json = Record<string, unknown>;

const toDate = (value: unknown): Date | null => (typeof value === 'string' ? new Date(value) : null);

function encodeRecord(record: ChallengeHistoryRecord): unknown {
  return JSON.parse(JSON.stringify(record));
}

function decodeRecord(stored: unknown): ChallengeHistoryRecord {
  const json = stored as Json;
  const challenge = json.challenge as Json | null;
  return {
    ...(json as unknown as ChallengeHistoryRecord),
    createdAt: toDate(json.createdAt),
    updatedAt: toDate(json.updatedAt),
    challenge: challenge && ({ ...challenge, startDate: toDate(challenge.startDate), endDate: toDate(challenge.endDate) } as ChallengeHistoryRecord['challenge']),
  };
}

export const awardRecordCodec: ResultCodec<ChallengeHistoryRecord> = { encode: encodeRecord, decode: decodeRecord };
