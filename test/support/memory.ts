// Memory the process holds, measured after a full garbage collection, for tests that bound growth.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/**
 * Heap plus Buffer memory in bytes, after a full GC. Twice: V8 sweeps the pages a full GC freed
 * concurrently, and until they are swept heapUsed still counts them (one GC read 39 MB of freed
 * 500 KB strings as held); the second GC finishes the first one's sweeping.
 */
export function heldMemory(): number {
  collectGarbage();
  collectGarbage();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}
