// Ids go into upstream URL paths and JSON bodies as int32 numbers; anything else is refused
// before a call, so no client text is ever spliced into a URL.

const INT32_MAX = 2_147_483_647;

/** A positive int32 written in plain decimal, or null. */
export function parseUpstreamId(value: string | number): number | null {
  const text = String(value);
  if (!/^[1-9]\d{0,9}$/.test(text)) return null;
  const id = Number(text);
  return id <= INT32_MAX ? id : null;
}

export const INVALID_ID_MESSAGE = `must be a positive integer no greater than ${INT32_MAX}`;
