// Variables that do not coerce (missing, null for a non-null type, the wrong type) are a request
// error graphql-js reports without a code; clients branch on extensions.code, as Apollo Server's
// users do on BAD_USER_INPUT. graphql-js marks each such error with the variable's definition.

import { Kind } from 'graphql';
import type { ExecutionResult, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { codedError } from '../errors/factory.js';
import { ErrorCode } from '../errors/registry.js';

/** An error of graphql-js's variable coercion: it points at a variable definition, nothing else. */
function isVariableError(error: GraphQLError): boolean {
  return error.nodes?.length === 1 && error.nodes[0]!.kind === Kind.VARIABLE_DEFINITION && error.extensions.code === undefined;
}

/** The result with BAD_USER_INPUT on each variable error; the same object when there is none. */
export function withVariableErrorCodes<T extends ExecutionResult>(result: T): T {
  // A request error has no `data`: execution never started.
  if ('data' in result || !result.errors?.some(isVariableError)) return result;
  const errors = result.errors.map((error) =>
    isVariableError(error)
      ? codedError(ErrorCode.BAD_USER_INPUT, error.message, error.extensions, { nodes: error.nodes, originalError: error.originalError })
      : error,
  );
  return { ...result, errors };
}

export function useVariableErrorCodes(): Plugin {
  return {
    onExecute: () => ({
      onExecuteDone: ({ result, setResult }) => {
        if (!(Symbol.asyncIterator in result)) {
          const coded = withVariableErrorCodes(result);
          if (coded !== result) setResult(coded);
        }
      },
    }),
  };
}
