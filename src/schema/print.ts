import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from './index.js';

/** The committed schema.graphql: sorted, so diffs show real changes only. */
export function printClientSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
