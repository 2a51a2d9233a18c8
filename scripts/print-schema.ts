// Prints the schemas from the Pothos code: `npm run print-schema`. schema.graphql is the
// client-facing schema; subgraph.graphql adds what a federation router composes.
import { writeFileSync } from 'node:fs';
import { printClientSchema, printSubgraphSchema } from '../src/schema/print.js';

for (const [file, print] of [
  ['schema.graphql', printClientSchema],
  ['subgraph.graphql', printSubgraphSchema],
] as const) {
  writeFileSync(new URL(`../${file}`, import.meta.url), print());
  console.log(`wrote ${file}`);
}
