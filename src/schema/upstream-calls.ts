// What an operation can make the gateway do, read from its document and variables before it
// runs: the upstream calls it can make, reserved from the HTTP request's budget
// (MAX_UPSTREAM_CALLS_PER_REQUEST), and the cost of its answer, bounded by GRAPHQL_MAX_COST.
// Both are upper bounds: every root field that calls the upstream counts, through fragments and
// aliases, whatever @skip/@include say, and repeated challenge ids count each time (the loader
// would send them once).
//
// The cost is the number of fields the answer can hold: each selected field (aliases and
// __typename included, every branch of a union's fragments) counts 1 plus its selection, and a
// root field taking a list argument (addChallengeHistories' items, _entities' representations)
// counts its selection once per item, from a literal or a variable alike. Lists the schema fills
// from the upstream (fieldErrors, titles) count once: their length is bounded by the upstream's
// answer and, in bytes, by MAX_RESPONSE_BYTES. graphql-armor's cost limit cannot do this: it is a
// validation rule, and validation sees no variables, so a 500-item `$items` costs it as much as
// one (it multiplies only by literal `first`/`last` arguments).

import { Kind, defaultFieldResolver, getOperationAST } from 'graphql';
import type { DocumentNode, GraphQLError, GraphQLResolveInfo, GraphQLSchema, OperationDefinitionNode, SelectionSetNode, ValueNode } from 'graphql';
import { codedError } from '../errors/factory.js';
import { ErrorCode } from '../errors/registry.js';
import type { GatewayContext } from './context.js';
import { fragmentsOf, selectedFields } from './operation-walk.js';
import type { Fragments } from './operation-walk.js';

/** Upstream calls per root field: a fixed number, or one per item of a list argument. */
const UPSTREAM_CALLS: Readonly<Record<string, number | { perItemOf: string }>> = {
  'Query.challenge': 1,
  'Query._entities': { perItemOf: 'representations' },
  'Mutation.addChallengeHistory': 1,
  'Mutation.addChallengeHistories': { perItemOf: 'items' },
};

type Variables = Readonly<Record<string, unknown>> | null | undefined;

/** What an operation can make the gateway do. */
export interface OperationMeasure {
  /** Upstream calls it can make. */
  calls: number;
  /** Fields its answer can hold (GRAPHQL_MAX_COST). */
  cost: number;
  /** Whether a list argument's length comes from a variable (else the measure holds for any variables). */
  readsVariables: boolean;
}

/** The measure of `operationName` of `document` with `variables` (as sent: not yet coerced). */
export function measureOperation(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, variables: Variables): OperationMeasure {
  const operation = getOperationAST(document, operationName);
  if (!operation) return { calls: 0, cost: 0, readsVariables: false };
  return measureOperationNode(schema, operation, fragmentsOf(document), variables);
}

/** The calls `operationName` of `document` can make with `variables` (as sent: not yet coerced). */
export function countUpstreamCalls(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, variables: Variables): number {
  return measureOperation(schema, document, operationName, variables).calls;
}

/**
 * One walk of the operation for both measures (schema/operation-walk.ts): each field counts at
 * every spread of the fragment that selects it; each field's selection is walked once, however
 * often it is spread (nested spreads cannot make the walk exponential); a cycle (refused by
 * validation anyway) is not followed.
 */
export function measureOperationNode(schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: Fragments, variables: Variables): OperationMeasure {
  const rootType = schema.getRootType(operation.operation)?.name;
  if (!rootType) return { calls: 0, cost: 0, readsVariables: false };
  // The cost of each selection set below the root: its fields, each 1 plus its own selection's.
  const costs = new Map<SelectionSetNode, number>();
  const costOf = (selectionSet: SelectionSetNode | undefined): number => {
    if (!selectionSet) return 0;
    let cost = costs.get(selectionSet);
    if (cost === undefined) {
      costs.set(selectionSet, 0); // in progress: a fragment spread inside itself (a cycle) counts nothing there
      cost = 0;
      for (const { node, times } of selectedFields(selectionSet, fragments)) cost += times * (1 + costOf(node.selectionSet));
      costs.set(selectionSet, cost);
    }
    return cost;
  };
  let readsVariables = false;
  let calls = 0;
  let cost = 0;
  for (const { node, times } of selectedFields(operation.selectionSet, fragments)) {
    const field = `${rootType}.${node.name.value}`;
    const perField = Object.hasOwn(UPSTREAM_CALLS, field) ? UPSTREAM_CALLS[field]! : 0;
    let items = 1;
    if (typeof perField === 'number') calls += times * perField;
    else {
      const argument = node.arguments?.find((arg) => arg.name.value === perField.perItemOf);
      items = argument ? itemCount(argument.value, variables) : 0;
      if (argument?.value.kind === Kind.VARIABLE) readsVariables = true;
      calls += times * items;
    }
    cost += times * items * (1 + costOf(node.selectionSet));
  }
  return { calls, cost, readsVariables };
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
  return codedError(
    ErrorCode.OPERATION_LIMIT_EXCEEDED,
    `This request needs up to ${calls} upstream calls; at most ${maxCalls} are allowed per request. Nothing was sent: send fewer items, fields or operations per request.`,
    {
      maxUpstreamCalls: maxCalls,
      upstreamCalls: calls,
      // Like every mutation error: nothing was sent, so nothing was recorded.
      ...(mutation ? { outcomeUnknown: false } : {}),
      http: { status: 400 },
    },
  );
}

/** What refuses an operation whose answer would cost more than GRAPHQL_MAX_COST, before anything runs. */
export function costLimitExceeded(cost: number, maxCost: number, { mutation }: { mutation: boolean }): GraphQLError {
  return codedError(
    ErrorCode.OPERATION_LIMIT_EXCEEDED,
    `This operation's answer can hold up to ${cost} fields (each list item counting its selection); at most ${maxCost} are allowed. Nothing was run: select fewer fields, aliases or items.`,
    { cost, maxCost, ...(mutation ? { outcomeUnknown: false } : {}), http: { status: 400 } },
  );
}

// One reservation per operation execution (one context each, on both request paths): null once
// the operation's calls are reserved, the refusal when they did not fit.
const reservations = new WeakMap<GatewayContext, GraphQLError | null>();
// The measure of an operation whose list arguments are literals holds for every request of its
// document (both paths reuse parsed documents): walked once, not per request.
const fixedMeasures = new WeakMap<OperationDefinitionNode, OperationMeasure>();

function measureOf(info: GraphQLResolveInfo): OperationMeasure {
  const fixed = fixedMeasures.get(info.operation);
  if (fixed) return fixed;
  const measure = measureOperationNode(info.schema, info.operation, info.fragments, info.variableValues);
  if (!measure.readsVariables) fixedMeasures.set(info.operation, measure);
  return measure;
}

/**
 * On the first call for this operation: refuses it when its answer would cost more than
 * GRAPHQL_MAX_COST, else reserves every upstream call it can make; throws the refusal when the
 * request's budget cannot hold them.
 */
function reserveUpstreamCalls(ctx: GatewayContext, info: GraphQLResolveInfo): void {
  let refusal = reservations.get(ctx);
  if (refusal === undefined) {
    const { calls, cost } = measureOf(info);
    const mutation = info.operation.operation === 'mutation';
    const { maxCost } = ctx.config.answers;
    // Over both bounds, the budget's refusal (the older one) is answered; over the cost only, nothing is reserved.
    if (cost > maxCost && calls <= ctx.fanOut.maxCalls) refusal = costLimitExceeded(cost, maxCost, { mutation });
    else refusal = ctx.fanOut.reserve(calls) ? null : upstreamBudgetExceeded(calls, ctx.fanOut.maxCalls, { mutation });
    reservations.set(ctx, refusal);
  }
  if (refusal) throw refusal;
}

/**
 * Makes every root field of `schema` check its operation's cost and reserve its calls before it
 * resolves, so an operation over either bound runs nothing and is refused once per root field
 * (once for an _entities of any length). In execution, not in a Yoga hook: the fast lane runs `execute` without Yoga's.
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
