// How many upstream calls an operation can make, read from its document and variables before it
// runs, and the reservation of that many from the HTTP request's budget (MAX_UPSTREAM_CALLS_PER_REQUEST).
// The count is an upper bound: every root field that calls the upstream counts, through fragments
// and aliases, whatever @skip/@include say, and repeated challenge ids count each time (the loader
// would send them once).

import { GraphQLError, Kind, defaultFieldResolver, getOperationAST } from 'graphql';
import type {
  DocumentNode,
  FragmentDefinitionNode,
  GraphQLResolveInfo,
  GraphQLSchema,
  OperationDefinitionNode,
  SelectionSetNode,
  ValueNode,
} from 'graphql';
import { ErrorCode } from './errors.js';
import type { GatewayContext } from '../context.js';

/** Upstream calls per root field: a fixed number, or one per item of a list argument. */
const UPSTREAM_CALLS: Readonly<Record<string, number | { perItemOf: string }>> = {
  'Query.challenge': 1,
  'Query._entities': { perItemOf: 'representations' },
  'Mutation.addChallengeHistory': 1,
  'Mutation.addChallengeHistories': { perItemOf: 'items' },
};

type Variables = Readonly<Record<string, unknown>> | null | undefined;
type Fragments = Readonly<Record<string, FragmentDefinitionNode>>;

/** The calls `operationName` of `document` can make with `variables` (as sent: not yet coerced). */
export function countUpstreamCalls(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, variables: Variables): number {
  const operation = getOperationAST(document, operationName);
  if (!operation) return 0;
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  }
  return countOperationUpstreamCalls(schema, operation, fragments, variables);
}

export function countOperationUpstreamCalls(schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: Fragments, variables: Variables): number {
  const rootType = schema.getRootType(operation.operation)?.name;
  if (!rootType) return 0;
  const count = (selectionSet: SelectionSetNode, spreading: ReadonlySet<string>): number => {
    let calls = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const field = `${rootType}.${selection.name.value}`;
        const cost = Object.hasOwn(UPSTREAM_CALLS, field) ? UPSTREAM_CALLS[field]! : 0;
        if (typeof cost === 'number') calls += cost;
        else {
          const argument = selection.arguments?.find((arg) => arg.name.value === cost.perItemOf);
          calls += argument ? itemCount(argument.value, variables) : 0;
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        calls += count(selection.selectionSet, spreading);
      } else {
        const name = selection.name.value;
        // Counted at every spread; a cycle (refused by validation later) is not followed.
        const fragment = Object.hasOwn(fragments, name) ? fragments[name] : undefined;
        if (fragment && !spreading.has(name)) calls += count(fragment.selectionSet, new Set(spreading).add(name));
      }
    }
    return calls;
  };
  return count(operation.selectionSet, new Set());
}

/** Items of a list argument; a single value stands for a list of one (input coercion). */
function itemCount(value: ValueNode, variables: Variables): number {
  if (value.kind === Kind.LIST) return value.values.length;
  if (value.kind === Kind.NULL) return 0;
  if (value.kind !== Kind.VARIABLE) return 1;
  const name = value.name.value;
  const bound = variables && Object.hasOwn(variables, name) ? variables[name] : undefined;
  if (Array.isArray(bound)) return bound.length;
  return bound == null ? 0 : 1;
}

/** What refuses a request over its budget, before any call. */
export function upstreamBudgetExceeded(calls: number, maxCalls: number, { mutation }: { mutation: boolean }): GraphQLError {
  return new GraphQLError(
    `This request needs up to ${calls} upstream calls; at most ${maxCalls} are allowed per request. Nothing was sent: send fewer items, fields or operations per request.`,
    {
      extensions: {
        code: ErrorCode.OPERATION_LIMIT_EXCEEDED,
        maxUpstreamCalls: maxCalls,
        upstreamCalls: calls,
        // Like every mutation error: nothing was sent, so nothing was recorded.
        ...(mutation ? { outcomeUnknown: false } : {}),
        http: { status: 400 },
      },
    },
  );
}

// One reservation per operation execution (one context each, on both request paths): null once
// the operation's calls are reserved, the refusal when they did not fit.
const reservations = new WeakMap<GatewayContext, GraphQLError | null>();

/**
 * Reserves, on the first call for this operation, every upstream call the operation can make; throws
 * the refusal when the request's budget cannot hold them.
 */
function reserveUpstreamCalls(ctx: GatewayContext, info: GraphQLResolveInfo): void {
  let refusal = reservations.get(ctx);
  if (refusal === undefined) {
    const calls = countOperationUpstreamCalls(info.schema, info.operation, info.fragments, info.variableValues);
    const mutation = info.operation.operation === 'mutation';
    refusal = ctx.fanOut.reserve(calls) ? null : upstreamBudgetExceeded(calls, ctx.fanOut.maxCalls, { mutation });
    reservations.set(ctx, refusal);
  }
  if (refusal) throw refusal;
}

/**
 * Makes every root field of `schema` reserve its operation's calls before it resolves, so an
 * operation over budget sends nothing and is refused once per root field (once for an _entities
 * of any length). In execution, not in a Yoga hook: the fast lane runs `execute` without Yoga's.
 */
export function reservingUpstreamCalls(schema: GraphQLSchema): GraphQLSchema {
  for (const rootType of [schema.getQueryType(), schema.getMutationType()]) {
    for (const field of Object.values(rootType?.getFields() ?? {})) {
      const resolve = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args, ctx: GatewayContext, info) => {
        reserveUpstreamCalls(ctx, info);
        return resolve(source, args, ctx, info);
      };
    }
  }
  return schema;
}
