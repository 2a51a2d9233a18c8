// Rewrites README.md's error-code table from the registry (src/errors/registry.ts): `npm run docs:errors`.
import { readFileSync, writeFileSync } from 'node:fs';
import { withErrorCodeTable } from '../src/errors/print.js';

const readme = new URL('../README.md', import.meta.url);
const before = readFileSync(readme, 'utf8');
const after = withErrorCodeTable(before);
writeFileSync(readme, after);
console.log(after === before ? 'README.md error-code table already up to date' : 'wrote the README.md error-code table');
