// The typed errors a client can act on: members of result unions (their GraphQL types are
// registered in src/schema/errors.ts). Plain Error subclasses. AmbassadorNotFoundError is the
// upstream's own answer (src/upstream/errors.ts), so that an endpoint descriptor can say what a
// 404 means without knowing the schema.

import type { LaravelValidationBody } from '../upstream/errors.js';

export interface FieldErrorShape {
  field: string;
  path: string[] | null;
  messages: string[];
}

// An answer, not a failure: nothing reads its stack. Capturing one costs more than the rest of
// the error (a batch of 500 refused items makes 500), so none is captured.
export class ValidationError extends Error {
  readonly fieldErrors: FieldErrorShape[];
  constructor(message: string, fieldErrors: FieldErrorShape[]) {
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = stackTraceLimit;
    this.fieldErrors = fieldErrors;
    this.name = 'ValidationError';
  }
}

/**
 * Builds a ValidationError from a Laravel 422 body (already bounded by readLaravelValidation),
 * each key mapped to its argument path; keys are looked up as own properties only, so
 * "constructor" or "__proto__" is a field without a path. What the bounds left out is counted
 * in the message.
 */
export function validationErrorFromUpstream(
  body: LaravelValidationBody,
  pathsByField: Readonly<Record<string, readonly string[]>>,
): ValidationError {
  const fieldErrors = body.errors.map(({ field, messages }) => ({
    field,
    path: Object.hasOwn(pathsByField, field) ? [...pathsByField[field]!] : null,
    messages,
  }));
  const { fields, messages } = body.omitted;
  const leftOut = [
    fields > 0 ? `${fields} more field${fields === 1 ? '' : 's'}` : '',
    messages > 0 ? `${messages} more message${messages === 1 ? '' : 's'}` : '',
  ].filter(Boolean);
  const message = leftOut.length > 0 ? `${body.message} (${leftOut.join(' and ')} left out)` : body.message;
  return new ValidationError(message, fieldErrors);
}
