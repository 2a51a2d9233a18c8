// The one SchemaBuilder. Fields are nullable unless marked otherwise (Pothos 4's default), which
// suits this schema: almost every field mirrors an upstream field that a real answer may omit.

import SchemaBuilder from '@pothos/core';
import DirectivesPlugin from '@pothos/plugin-directives';
import ErrorsPlugin from '@pothos/plugin-errors';
import FederationPlugin from '@pothos/plugin-federation';
import { DateTimeResolver, JSONObjectResolver } from 'graphql-scalars';
import type { GatewayContext } from './context.js';

export const builder = new SchemaBuilder<{
  Context: GatewayContext;
  Scalars: {
    ID: { Input: string; Output: string | number };
    DateTime: { Input: Date; Output: Date };
    JSONObject: { Input: Record<string, unknown>; Output: Record<string, unknown> };
  };
}>({
  // Federation last: it must see the resolvers other plugins wrap (its README's rule).
  plugins: [ErrorsPlugin, DirectivesPlugin, FederationPlugin],
});

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('JSONObject', JSONObjectResolver);

builder.queryType({});
builder.mutationType({});
