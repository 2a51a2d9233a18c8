import { printSubgraphSchema as printWithFederationDirectives } from '@apollo/subgraph';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema, subgraphSchema } from './index.js';

/** The committed schema.graphql: sorted, so diffs show real changes only. */
export function printClientSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}

/** The committed subgraph.graphql, what a router composes: the SDL `_service { sdl }` answers. */
export function printSubgraphSchema(): string {
  return `${printWithFederationDirectives(subgraphSchema)}\n`;
}
