// Prints the client-facing schema from the Pothos code: `npm run print-schema`.
import { writeFileSync } from 'node:fs';
import { printClientSchema } from '../src/schema/print.js';

writeFileSync(new URL('../schema.graphql', import.meta.url), printClientSchema());
console.log('wrote schema.graphql');
