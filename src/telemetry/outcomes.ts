// The words a request's outcome may be labelled with in metrics: the codes of the error-code
// registry (src/errors/registry.ts) and the names of the schema's object types. Whatever else a
// result carries (an alias named `__typename` on a message, a code from elsewhere) is never a
// label: a label per message would grow the metrics without bound.

import { isObjectType } from 'graphql';
import type { GraphQLSchema } from 'graphql';
import { isErrorCode } from '../errors/registry.js';

/** The outcome label of an error whose code is not in the list. */
export const OTHER_ERROR = 'ERROR';

/** An error code as a label: itself when listed, OTHER_ERROR otherwise. */
export function errorCodeLabel(code: unknown): string {
  return isErrorCode(code) ? code : OTHER_ERROR;
}

const objectTypeNames = new WeakMap<GraphQLSchema, ReadonlySet<string>>();

/** Whether `name` names one of the schema's object types (the only runtime types a result can have). */
export function isObjectTypeName(schema: GraphQLSchema, name: unknown): name is string {
  let names = objectTypeNames.get(schema);
  if (!names) {
    names = new Set(Object.values(schema.getTypeMap()).filter(isObjectType).map((type) => type.name));
    objectTypeNames.set(schema, names);
  }
  return typeof name === 'string' && names.has(name);
}
