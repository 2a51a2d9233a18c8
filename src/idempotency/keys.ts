// What identifies an idempotent operation: the client's key, who sent it (a hash of the token)
// and what it asked for (a hash of the arguments after the gateway's own normalisation).

import { createHash } from 'node:crypto';

/** 1-255 characters of printable ASCII without spaces. */
const IDEMPOTENCY_KEY = /^[\x21-\x7E]{1,255}$/;

export const IDEMPOTENCY_KEY_RULE = 'idempotencyKey must be 1 to 255 printable ASCII characters without spaces.';

export function isValidIdempotencyKey(key: string): boolean {
  return IDEMPOTENCY_KEY.test(key);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export const hashToken = sha256;

/** Equal for two requests exactly when they send the same arguments (JSON values, in a fixed order). */
export function fingerprintOf(args: readonly unknown[]): string {
  return sha256(JSON.stringify(args));
}
