// The words a request's outcome may be labelled with in metrics: a fixed list of error codes
// and the names of the schema's object types. Whatever else a result carries (an alias named
// `__typename` on a message, a code from elsewhere) is never a label: a label per message would
// grow the metrics without bound.

import { isObjectType } from 'graphql';
import type { GraphQLSchema } from 'graphql';
import { NOT_FOUND_CODE, HOST_NOT_ALLOWED_CODE, SERVER_BUSY_CODE } from '../http-guard.js';
import { CSRF_CODE } from '../plugins/csrf.js';
import { OPERATION_LIMIT_CODE } from '../plugins/operation-limits.js';
import { BODY_LIMIT_CODE, LENGTH_REQUIRED_CODE } from '../plugins/request-body-limit.js';
import { SERVICE_SDL_CODE } from '../plugins/service-sdl-guard.js';
import { ErrorCode } from '../schema/errors.js';

/** The outcome label of an error whose code is not in the list. */
export const OTHER_ERROR = 'ERROR';

const KNOWN_ERROR_CODES: ReadonlySet<string> = new Set([
  ...Object.values(ErrorCode),
  OPERATION_LIMIT_CODE,
  CSRF_CODE,
  BODY_LIMIT_CODE,
  LENGTH_REQUIRED_CODE,
  NOT_FOUND_CODE,
  HOST_NOT_ALLOWED_CODE,
  SERVER_BUSY_CODE,
  SERVICE_SDL_CODE,
  // persisted operations (plugins/persisted-operations.ts)
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_IN_LIST',
  'PERSISTED_QUERY_ONLY',
  'PERSISTED_QUERY_HASH_MISMATCH',
  // Yoga's own
  'BAD_REQUEST',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'INTERNAL_SERVER_ERROR',
  'REQUEST_ENTITY_TOO_LARGE',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_ID_REQUIRED',
  'CANNOT_SEND_PQ_ID_AND_BODY',
]);

/** An error code as a label: itself when listed, OTHER_ERROR otherwise. */
export function errorCodeLabel(code: unknown): string {
  return typeof code === 'string' && KNOWN_ERROR_CODES.has(code) ? code : OTHER_ERROR;
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
