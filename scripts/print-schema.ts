// Writes every generated file: schema.graphql from the Pothos code, then the client files
// codegen derives from it (possibleTypes, the example's typed operations). `npm run print-schema`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { printClientSchema } from '../src/schema/print.js';
import { generateClientFiles } from './codegen.js';

const root = new URL('../', import.meta.url);
writeFileSync(new URL('schema.graphql', root), printClientSchema());
console.log('wrote schema.graphql');
for (const file of await generateClientFiles()) {
  const target = new URL(file.path, root);
  mkdirSync(dirname(target.pathname), { recursive: true });
  writeFileSync(target, file.content);
  console.log(`wrote ${file.path}`);
}
