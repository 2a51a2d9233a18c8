// MAX_UPSTREAM_CALLS_PER_REQUEST and GRAPHQL_MAX_COST over a whole HTTP batch (a JSON array of operations), checked
// once the body is parsed and before any of its operations runs: Yoga runs them concurrently, so
// each one's own reservation (schema/upstream-calls.ts, on both request paths) could only refuse
// the late ones after the early ones had called. Over budget, the whole request is refused.
//
// An operation sent by hash alone is counted here when its text is a trusted document; an
// automatic persisted query known only by hash is counted by its own reservation at execution.

import { getOperationAST, parse } from 'graphql';
import type { GraphQLSchema } from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import type { GatewayConfig } from '../app/config.js';
import { costLimitExceeded, measureOperation, upstreamBudgetExceeded } from '../schema/upstream-calls.js';

export function useUpstreamBudget(
  schema: GraphQLSchema,
  config: Pick<GatewayConfig, 'upstreamBudget' | 'trustedDocuments' | 'limits' | 'answers'>,
): Plugin {
  const { maxCallsPerRequest } = config.upstreamBudget;
  const textOf = (params: GraphQLParams): string | undefined => {
    if (typeof params.query === 'string') return params.query;
    const hash = (params.extensions?.persistedQuery as { sha256Hash?: unknown } | undefined)?.sha256Hash;
    return typeof hash === 'string' ? config.trustedDocuments?.get(hash) : undefined;
  };
  const { maxCost } = config.answers;
  /** The operation's calls and cost, and whether it is a mutation (its refusal then says outcomeUnknown: false). */
  const measureOf = (params: GraphQLParams): { calls: number; cost: number; mutation: boolean } => {
    const text = textOf(params);
    if (text === undefined) return { calls: 0, cost: 0, mutation: false };
    try {
      // The token bound Yoga's parser applies too: a batch cannot make this parse costlier than Yoga's.
      const document = parse(text, { maxTokens: config.limits.maxTokens });
      const { calls, cost } = measureOperation(schema, document, params.operationName, params.variables);
      return { calls, cost, mutation: getOperationAST(document, params.operationName)?.operation === 'mutation' };
    } catch {
      return { calls: 0, cost: 0, mutation: false }; // Yoga refuses what does not parse, before any call
    }
  };
  return {
    onRequestParse: () => ({
      onRequestParseDone({ requestParserResult }) {
        // A single operation is checked by its own reservation, with the document Yoga parses anyway.
        if (!Array.isArray(requestParserResult)) return;
        const operations = requestParserResult.map(measureOf);
        const calls = operations.reduce((sum, operation) => sum + operation.calls, 0);
        const cost = operations.reduce((sum, operation) => sum + operation.cost, 0);
        const mutation = operations.some((operation) => operation.mutation);
        if (calls > maxCallsPerRequest) throw upstreamBudgetExceeded(calls, maxCallsPerRequest, { mutation });
        if (cost > maxCost) throw costLimitExceeded(cost, maxCost, { mutation });
      },
    }),
  };
}
