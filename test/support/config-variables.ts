// The environment variables src/app/config.ts reads: every read goes through its EnvReader
// (`read.<kind>('NAME'`), so the names are read from its source, whoever adds one.

import { readFileSync } from 'node:fs';

const CONFIG_SOURCE = new URL('../../src/app/config.ts', import.meta.url);

export function variablesReadByConfig(): string[] {
  const source = readFileSync(CONFIG_SOURCE, 'utf8');
  return [...new Set([...source.matchAll(/\bread\.\w+\('([A-Z][A-Z0-9_]*)'/g)].map(([, name]) => name!))];
}
