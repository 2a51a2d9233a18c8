// A request must carry an operation: a `query`, or a persisted operation's hash. Without either,
// GraphQL over HTTP asks for a 4xx, but the persisted-operations plugin would answer 200
// PersistedQueryKeyNotFound; so this runs ahead of it and answers as Yoga does without that plugin.

import { createGraphQLError } from 'graphql-yoga';
import type { Plugin } from 'graphql-yoga';
import { defaultExtractPersistedOperationId } from '@graphql-yoga/plugin-persisted-operations';

export function useRequireOperation(): Plugin {
  return {
    onParams({ params, request, context }) {
      if (params.query != null || defaultExtractPersistedOperationId(params, request, context) !== null) return;
      throw createGraphQLError('Must provide query string.', { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
    },
  };
}
