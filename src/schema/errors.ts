// The GraphQL types of the typed errors a client can act on (members of result unions). The
// errors themselves are in src/errors/results.ts and src/upstream/errors.ts, the coded ones in
// src/errors/.

import { builder } from './builder.js';
import { ValidationError } from '../errors/results.js';
import { AmbassadorNotFoundError } from '../upstream/errors.js';
import type { FieldErrorShape } from '../errors/results.js';

export const ErrorInterface = builder.interfaceRef<Error>('Error').implement({
  description: 'A refusal the client can show or act on. Every member of a result union but the success implements it.',
  fields: (t) => ({
    message: t.exposeString('message', { nullable: false }),
  }),
});

builder.objectType(AmbassadorNotFoundError, {
  name: 'AmbassadorNotFoundError',
  interfaces: [ErrorInterface],
  description: 'The upstream has no ambassador with this id (HTTP 404). Nothing was recorded.',
  fields: (t) => ({
    ambassadorId: t.exposeID('ambassadorId', { nullable: false }),
  }),
});

const FieldError = builder.objectRef<FieldErrorShape>('FieldError').implement({
  description: 'The refusal of one value.',
  fields: (t) => ({
    field: t.exposeString('field', {
      nullable: false,
      description: 'The upstream\'s name for the value: "challenge_id", "points", ...; "id" for the ambassador path parameter.',
    }),
    path: t.exposeStringList('path', {
      nullable: { list: true, items: false },
      description: 'Where the value came from in this operation, e.g. ["input","challengeId"]; null if no argument maps to it.',
    }),
    messages: t.exposeStringList('messages', { nullable: { list: false, items: false } }),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  interfaces: [ErrorInterface],
  description: 'The input was refused, by the gateway before any upstream call or by the upstream (HTTP 422). Nothing was recorded.',
  fields: (t) => ({
    fieldErrors: t.field({
      type: [FieldError],
      nullable: { list: false, items: false },
      resolve: (error) => error.fieldErrors,
    }),
  }),
});
