// V8's heap tuning for the gateway process, imported first by main.ts so it applies before the
// modules load. V8 lets the old generation grow to about four times what survived the last full
// GC before it collects again; the gateway's heap after start-up (schema, modules) is larger than
// a minimal server's, so under load its peak RSS was 1.5-1.8x Apollo Server's. Growing it by at
// most 50% between full GCs brought the peak to 1.06x in the bench at a CPU cost inside the
// bench's noise (docs/performance.md). An operator's own --heap-growing-percent wins.

import { setFlagsFromString } from 'node:v8';

const HEAP_GROWING_PERCENT = 50;

const FLAG = '--heap-growing-percent';

/** Whether the process was started with the flag already (on the command line or in NODE_OPTIONS). */
export function operatorSetHeapGrowing(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  return given.some((arg) => arg.replaceAll('_', '-').startsWith(FLAG));
}

if (!operatorSetHeapGrowing(process.execArgv, process.env.NODE_OPTIONS)) setFlagsFromString(`${FLAG}=${HEAP_GROWING_PERCENT}`);
