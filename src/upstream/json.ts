// Parses an upstream body with its nesting bounded. JSON.parse itself never overflows the stack,
// but deep nesting is its slow case: a 5 MB body of nested arrays costs seconds of CPU (the
// event loop blocked) where 5 MB of flat JSON costs a fraction of one. Values nested deeper
// than MAX_PARSE_DEPTH are replaced by null in one linear pass over the bytes before parsing,
// so a deep value costs a scan, and the record around it is still read.

/** Deepest nesting parsed; a real answer of the upstream nests about five levels. */
export const MAX_PARSE_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const isOpener = (byte: number) => byte === 0x5b || byte === 0x7b; // [ {
const isCloser = (byte: number) => byte === 0x5d || byte === 0x7d; // ] }
const NULL = Buffer.from('null');
const OPENERS = [0x5b, 0x7b];

/** JSON.parse of `bytes` (UTF-8) with every value deeper than `maxDepth` read as null; throws on invalid JSON. */
export function parseJsonBounded(bytes: Buffer, maxDepth: number = MAX_PARSE_DEPTH): unknown {
  return JSON.parse(capDepth(bytes, maxDepth).toString('utf8'));
}

/**
 * The same bytes with every container opened below `maxDepth` cut out and null in its place.
 * Structural characters are ASCII, so a byte scan is exact for UTF-8; strings are skipped whole.
 */
function capDepth(bytes: Buffer, maxDepth: number): Buffer {
  // Nesting never exceeds the number of openers: a body with few of them (every real answer)
  // needs no byte-by-byte scan, and counting them is a native search.
  if (openersAtMost(bytes, maxDepth)) return bytes;
  const kept: Buffer[] = [];
  let copiedUpTo = 0;
  let depth = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === QUOTE) {
      i = endOfString(bytes, i);
    } else if (isOpener(byte)) {
      if (++depth <= maxDepth) continue;
      kept.push(bytes.subarray(copiedUpTo, i), NULL);
      i = endOfContainer(bytes, i);
      copiedUpTo = i + 1;
      depth--;
    } else if (isCloser(byte)) {
      depth--;
    }
  }
  if (kept.length === 0) return bytes;
  kept.push(bytes.subarray(copiedUpTo));
  return Buffer.concat(kept);
}

/** Whether `bytes` holds at most `max` `[` and `{` bytes in all, strings included. */
function openersAtMost(bytes: Buffer, max: number): boolean {
  let count = 0;
  for (const opener of OPENERS) {
    for (let i = bytes.indexOf(opener); i !== -1; i = bytes.indexOf(opener, i + 1)) if (++count > max) return false;
  }
  return true;
}

/** Index of the quote closing the string that opens at `start` (the last index if unterminated). */
function endOfString(bytes: Buffer, start: number): number {
  for (let i = start + 1; i < bytes.length; i++) {
    if (bytes[i] === BACKSLASH) i++;
    else if (bytes[i] === QUOTE) return i;
  }
  return bytes.length - 1;
}

/** Index of the bracket closing the container that opens at `start` (the last index if unclosed). */
function endOfContainer(bytes: Buffer, start: number): number {
  let depth = 0;
  for (let i = start; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === QUOTE) i = endOfString(bytes, i);
    else if (isOpener(byte)) depth++;
    else if (isCloser(byte) && --depth === 0) return i;
  }
  return bytes.length - 1;
}
