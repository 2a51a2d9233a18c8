// Writes every generated file: `npm run print-schema`. schema.graphql is the client-facing schema
// printed from the Pothos code; subgraph.graphql adds what a federation router composes; then the
// client files codegen derives from the schema (possibleTypes, the example's typed operations).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { printClientSchema, printSubgraphSchema } from '../src/schema/print.js';
import { generateClientFiles } from './codegen.js';

const root = new URL('../', import.meta.url);
const files = [
  { path: 'schema.graphql', content: printClientSchema() },
  { path: 'subgraph.graphql', content: printSubgraphSchema() },
  ...(await generateClientFiles()),
];
for (const file of files) {
  const target = new URL(file.path, root);
  mkdirSync(dirname(target.pathname), { recursive: true });
  writeFileSync(target, file.content);
  console.log(`wrote ${file.path}`);
}
