// Bounds on what one operation may ask, checked at validation, so a refused operation never
// reaches a resolver (and so never the upstream): depth, aliases, tokens and directives
// (graphql-armor), root mutation fields (each addChallengeHistory is one upstream POST),
// introspection and "did you mean" suggestions (switchable for production).

import { EnvelopArmor } from '@escape.tech/graphql-armor';
import { NoSchemaIntrospectionCustomRule } from 'graphql';
import type { GraphQLError, ValidationContext, ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GatewayConfig } from '../app/config.js';
import { codedError } from '../errors/factory.js';
import { ErrorCode } from '../errors/registry.js';
import { rootFieldsOf } from '../schema/operation-walk.js';

export function useOperationLimits(config: Pick<GatewayConfig, 'limits' | 'introspection' | 'fieldSuggestions'>): Plugin[] {
  const { limits } = config;
  // Armor's errors carry no code, and some are thrown rather than reported (Yoga would answer
  // 200): give them the same code and status as the root-field bound.
  const tagCode = (_ctx: ValidationContext | null, error: GraphQLError) => {
    Object.assign(error.extensions, { code: ErrorCode.OPERATION_LIMIT_EXCEEDED, http: { status: 400 } });
  };
  const bound = (n: number) => ({ n, exposeLimits: true, onReject: [tagCode] });
  const armor = new EnvelopArmor({
    maxDepth: { ...bound(limits.maxDepth), flattenFragments: true },
    maxAliases: bound(limits.maxAliases),
    maxTokens: bound(limits.maxTokens),
    maxDirectives: bound(limits.maxDirectives),
    costLimit: { enabled: false }, // depth, aliases and tokens bound the work; root fields bound the POSTs
    blockFieldSuggestion: { enabled: !config.fieldSuggestions, mask: '[Suggestion hidden]' },
  });
  const rules: ValidationRule[] = [maxRootMutationFields(limits.maxRootFields)];
  if (!config.introspection) rules.push(NoSchemaIntrospectionCustomRule);
  return [
    ...(armor.protect().plugins as Plugin[]),
    {
      onValidate({ addValidationRule }) {
        for (const rule of rules) addValidationRule(rule);
      },
    },
  ];
}

/** Refuses a mutation with more than `max` root fields (__typename aside), counted through fragments: each field node once, however often spread. */
export function maxRootMutationFields(max: number): ValidationRule {
  return (context) => ({
    OperationDefinition(operation) {
      if (operation.operation !== 'mutation') return;
      const count = rootFieldsOf(context.getDocument(), operation).filter(({ node }) => node.name.value !== '__typename').length;
      if (count > max) {
        context.reportError(
          codedError(ErrorCode.OPERATION_LIMIT_EXCEEDED, `A mutation may have at most ${max} root fields; this one has ${count}. Send them in separate requests.`, {}, {
            nodes: [operation],
          }),
        );
      }
    },
  });
}
