// A request must carry an operation: a `query` string, or a persisted operation's hash. Without
// either, GraphQL over HTTP asks for a 4xx, but the persisted-operations plugin would answer 200
// PersistedQueryKeyNotFound; so this runs ahead of it and answers 400 as Yoga does without it.

import type { Plugin } from 'graphql-yoga';
import { defaultExtractPersistedOperationId } from '@graphql-yoga/plugin-persisted-operations';
import { codedError } from '../errors/factory.js';
import { ErrorCode } from '../errors/registry.js';

const badRequest = (message: string) => codedError(ErrorCode.BAD_REQUEST, message, { http: { status: 400 } });

export function useRequireOperation(): Plugin {
  return {
    onParams({ params, request, context }) {
      const { query } = params as { query?: unknown };
      if (typeof query === 'string') return;
      if (query != null) throw badRequest(`Expected "query" param to be a string, but given ${typeof query}.`);
      if (defaultExtractPersistedOperationId(params, request, context) === null) throw badRequest('Must provide query string.');
    },
  };
}
