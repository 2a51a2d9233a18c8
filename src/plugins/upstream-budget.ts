// MAX_UPSTREAM_CALLS_PER_REQUEST over a whole HTTP batch (a JSON array of operations), checked
// once the body is parsed and before any of its operations runs: Yoga runs them concurrently, so
// each one's own reservation (schema/upstream-calls.ts, on both request paths) could only refuse
// the late ones after the early ones had called. Over budget, the whole request is refused.
//
// An operation sent by hash alone is counted here when its text is a trusted document; an
// automatic persisted query known only by hash is counted by its own reservation at execution.

import { getOperationAST, parse } from 'graphql';
import type { GraphQLSchema } from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import type { GatewayConfig } from '../config.js';
import { countUpstreamCalls, upstreamBudgetExceeded } from '../schema/upstream-calls.js';

export function useUpstreamBudget(
  schema: GraphQLSchema,
  config: Pick<GatewayConfig, 'upstreamBudget' | 'trustedDocuments' | 'limits'>,
): Plugin {
  const { maxCallsPerRequest } = config.upstreamBudget;
  const textOf = (params: GraphQLParams): string | undefined => {
    if (typeof params.query === 'string') return params.query;
    const hash = (params.extensions?.persistedQuery as { sha256Hash?: unknown } | undefined)?.sha256Hash;
    return typeof hash === 'string' ? config.trustedDocuments?.get(hash) : undefined;
  };
  /** The operation's calls, and whether it is a mutation (its refusal then says outcomeUnknown: false). */
  const callsOf = (params: GraphQLParams): { calls: number; mutation: boolean } => {
    const text = textOf(params);
    if (text === undefined) return { calls: 0, mutation: false };
    try {
      // The token bound Yoga's parser applies too: a batch cannot make this parse costlier than Yoga's.
      const document = parse(text, { maxTokens: config.limits.maxTokens });
      return {
        calls: countUpstreamCalls(schema, document, params.operationName, params.variables),
        mutation: getOperationAST(document, params.operationName)?.operation === 'mutation',
      };
    } catch {
      return { calls: 0, mutation: false }; // Yoga refuses what does not parse, before any call
    }
  };
  return {
    onRequestParse: () => ({
      onRequestParseDone({ requestParserResult }) {
        // A single operation is checked by its own reservation, with the document Yoga parses anyway.
        if (!Array.isArray(requestParserResult)) return;
        const operations = requestParserResult.map(callsOf);
        const calls = operations.reduce((sum, operation) => sum + operation.calls, 0);
        if (calls > maxCallsPerRequest) {
          throw upstreamBudgetExceeded(calls, maxCallsPerRequest, { mutation: operations.some((operation) => operation.mutation) });
        }
      },
    }),
  };
}
