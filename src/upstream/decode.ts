// Turns upstream JSON into records. Tolerant on purpose: a 2xx means the record exists,
// so a field that is missing or of the wrong type becomes null (a list becomes []) rather
// than failing the whole answer. Only a missing record id makes an answer unusable. Every key
// is read as an own property (ownValue): upstream JSON never reaches Object.prototype.

import { isPlainObject, ownValue } from './errors.js';
import type {
  AmbassadorRecord,
  ChallengeHistoryRecord,
  ChallengeRecord,
  I18nContentRecord,
} from './types.js';

type Json = Record<string, unknown>;

/** GraphQL's Int is a signed 32-bit integer: a larger upstream number would fail serialization. */
const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };

/**
 * Bounds on opaque JSON passed through as it is (Challenge.challengeable). A real challengeable
 * is a few flat keys; the depth bound keeps every JSON.stringify of the answer (Yoga's, the fast
 * lane's, the logs') far from the call-stack limit, the size bound keeps one field from
 * dominating an answer. Beyond either, the field is null and the record is still decoded.
 */
export const OPAQUE_JSON_BOUNDS = {
  maxDepth: 32,
  /** Estimated serialized size (string lengths in UTF-16 code units, escapes not counted). */
  maxBytes: 64 * 1024,
} as const;

function readString(obj: Json, key: string): string | null {
  const value = ownValue(obj, key);
  return typeof value === 'string' ? value : null;
}

function readNumber(obj: Json, key: string): number | null {
  const value = ownValue(obj, key);
  // Laravel sometimes serializes decimals as strings ("42.00").
  const number = typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
  // Finite only: GraphQL's Float cannot carry 1e400 (parsed as Infinity) or "9" * 400.
  return typeof number === 'number' && Number.isFinite(number) ? number : null;
}

/** An integer GraphQL's Int can carry; anything else (2^31, 1.5, 1e400) is null. */
function readInt(obj: Json, key: string): number | null {
  const value = readNumber(obj, key);
  return value !== null && Number.isInteger(value) && value >= INT32.min && value <= INT32.max ? value : null;
}

function readBoolean(obj: Json, key: string): boolean | null {
  const value = ownValue(obj, key);
  if (typeof value === 'boolean') return value;
  // PHP backends commonly emit tinyint booleans.
  if (value === 0 || value === 1) return value === 1;
  return null;
}

// RFC 3339 date-time; a missing offset is read as UTC (Laravel's default application zone).
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

function readDateTime(obj: Json, key: string): Date | null {
  const value = ownValue(obj, key);
  if (typeof value !== 'string') return null;
  const match = DATE_TIME.exec(value.trim());
  if (!match) return null;
  const [, y, mo, d, h, mi, s = '00', fraction = '', zone = 'Z'] = match;
  const offset = zone.toUpperCase() === 'Z' ? 'Z' : zone.replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
  const millis = fraction.slice(0, 4).padEnd(4, '0'); // ".123456" -> ".123"
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}${fraction ? millis : ''}${offset}`);
  return Number.isNaN(date.getTime()) ? null : date;
}

function readId(obj: Json, key: string): number | null {
  const value = readInt(obj, key);
  return value !== null && value > 0 ? value : null;
}

function readI18nList(obj: Json, key: string): I18nContentRecord[] {
  const value = ownValue(obj, key);
  if (!Array.isArray(value)) return [];
  return value.filter(isPlainObject).map((item) => ({
    id: readInt(item, 'id_i18n_content'),
    langCode: readString(item, 'lang'),
    content: readString(item, 'content'),
  }));
}

/** A JSON object kept as it is when within OPAQUE_JSON_BOUNDS; null otherwise. */
function readOpaqueObject(obj: Json, key: string): Json | null {
  const value = ownValue(obj, key);
  return isPlainObject(value) && withinOpaqueBounds(value) ? value : null;
}

/**
 * Walks parsed JSON without recursion (a 5,000-level value must not exhaust the stack here
 * either) and stops at the first bound crossed, so the work is bounded by the bounds.
 */
function withinOpaqueBounds(root: Json): boolean {
  const { maxDepth, maxBytes } = OPAQUE_JSON_BOUNDS;
  const pending: [value: unknown, depth: number][] = [[root, 1]];
  let bytes = 0;
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [value, depth] = next;
    if (typeof value !== 'object' || value === null) {
      bytes += typeof value === 'string' ? value.length + 2 : String(value).length;
      if (bytes > maxBytes) return false;
      continue;
    }
    if (depth > maxDepth) return false;
    bytes += 2;
    for (const [key, child] of childrenOf(value)) {
      bytes += key.length + 4; // quotes, colon, comma
      if (bytes > maxBytes) return false;
      pending.push([child, depth + 1]);
    }
  }
  return true;
}

/** An array's items (with '' as key) or an object's own entries, lazily: a walk that stops early lists no more. */
function* childrenOf(value: object): Generator<[string, unknown]> {
  if (Array.isArray(value)) {
    for (const item of value as unknown[]) yield ['', item];
    return;
  }
  for (const key in value) if (Object.hasOwn(value, key)) yield [key, (value as Json)[key]];
}

export function decodeAmbassador(value: unknown, fallbackId: number | null): AmbassadorRecord | null {
  if (!isPlainObject(value)) return null;
  const id = readId(value, 'id_ambassador') ?? fallbackId;
  if (id === null) return null;
  return {
    id,
    image: readString(value, 'image'),
    fullName: readString(value, 'full_name'),
    username: readString(value, 'username'),
    description: readString(value, 'description'),
    status: readInt(value, 'status'),
    availability: readString(value, 'availability'),
    unavailable: readBoolean(value, 'unavailable'),
    isAbsent: readBoolean(value, 'is_absent'),
    absentMsg: readString(value, 'absent_msg'),
    fbAccount: readString(value, 'fb_account'),
    twitterAccount: readString(value, 'twitter_account'),
    instagramAccount: readString(value, 'instagram_account'),
    linkedInAccount: readString(value, 'linkedIn_account'),
    youtubeAccount: readString(value, 'youtube_account'),
    online: readBoolean(value, 'online'),
    lastActionDate: readString(value, 'last_action_date'),
  };
}

export function decodeChallenge(value: unknown, fallbackId: number | null): ChallengeRecord | null {
  if (!isPlainObject(value)) return null;
  const id = readId(value, 'id') ?? fallbackId;
  if (id === null) return null;
  return {
    id,
    titles: readI18nList(value, 'titles'),
    images: readI18nList(value, 'images'),
    descriptions: readI18nList(value, 'descriptions'),
    points: readNumber(value, 'points'),
    proportionalPoints: readBoolean(value, 'proportional_points'),
    nbWins: readInt(value, 'nb_wins'),
    startDate: readDateTime(value, 'start_date'),
    endDate: readDateTime(value, 'end_date'),
    active: readBoolean(value, 'active'),
    challengeableType: readString(value, 'challengeable_type'),
    challengeable: readOpaqueObject(value, 'challengeable'),
  };
}

/**
 * Decodes a 2xx answer of POST .../challenge-histories. Returns null when the body has no
 * usable record id. The ids the gateway sent stand in for ids missing from nested objects.
 */
export function decodeChallengeHistory(
  value: unknown,
  sent: { ambassadorId: number; challengeId: number | null },
): ChallengeHistoryRecord | null {
  if (!isPlainObject(value)) return null;
  const rawId = ownValue(value, 'id');
  let id: number | string | null = null;
  if (typeof rawId === 'number' && Number.isSafeInteger(rawId) && rawId > 0) id = rawId;
  else if (typeof rawId === 'string' && rawId.trim() !== '') id = rawId.trim();
  if (id === null) return null;
  return {
    id,
    ambassador: decodeAmbassador(ownValue(value, 'ambassador'), sent.ambassadorId),
    challenge: decodeChallenge(ownValue(value, 'challenge'), sent.challengeId),
    message: readString(value, 'message'),
    score: readNumber(value, 'score'),
    points: readNumber(value, 'points'),
    createdAt: readDateTime(value, 'created_at'),
    updatedAt: readDateTime(value, 'updated_at'),
  };
}
