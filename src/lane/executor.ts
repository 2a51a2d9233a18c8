// lane/: the fast lane: serves admitted requests without Yoga's Fetch-API layer; its executor, its safety declarations, and every coupling to Yoga and graphql-js internals (internals.ts).
//
// The fast lane's executor: answers exactly as graphql-js `execute` does, with less work per
// request. graphql-js collects fields, looks up field definitions and coerces arguments anew for
// every request; a plan compiled once per admitted document keeps what does not depend on the
// request (the document has no @skip/@include, so nothing in a plan depends on variables), and
// the lane's already-coerced variables are not coerced a second time.
//
// The plan runs the operation's one root field as graphql-js would (same arguments, info,
// context), then completes its value itself, but only the clean case: a value graphql-js would
// complete without an error. Anything else — a nested resolver that throws or returns a
// promise, a null in a non-null position, a failed serialization, an abstract type not resolved
// synchronously, a root resolver that failed — and graphql-js answers the whole operation, with
// the root field's outcome replayed from memory (replaySchema): the root resolver, the one that
// calls the upstream, never runs twice, and every error, null and path in the answer is
// graphql-js's own. The nested resolvers a replay runs again are the schema's pure accessors.
// Documents the plan does not cover (several root fields, @skip/@include, introspection) are
// executed by graphql-js directly.

import {
  GraphQLObjectType,
  GraphQLSchema,
  Kind,
  TypeNameMetaFieldDef,
  defaultFieldResolver,
  defaultTypeResolver,
  execute,
  getArgumentValues,
  isAbstractType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  validateSchema,
  visit,
} from 'graphql';
import type {
  DocumentNode,
  ExecutionResult,
  FieldNode,
  GraphQLField,
  GraphQLFieldResolver,
  GraphQLOutputType,
  GraphQLResolveInfo,
  OperationDefinitionNode,
  ResponsePath as Path,
} from 'graphql';
import { fragmentsOf } from '../schema/operation-walk.js';
import type { Fragments } from '../schema/operation-walk.js';
import { graphqlInternals } from './internals.js';

// graphql-js's non-public functions, reached through internals.ts (checked at start-up).
const { collectFields, collectSubfields, getFieldDef } = graphqlInternals;

/** What the plan met that graphql-js would answer with an error (or that the plan does not complete): graphql-js answers instead. */
const NOT_CLEAN = Symbol('not-clean');

/** One field of a selection on an object type, as graphql-js's collectSubfields and getFieldDef find it. */
interface SelectedField {
  responseName: string;
  fieldNodes: ReadonlyArray<FieldNode>;
  field: GraphQLField<unknown, unknown>;
  isTypename: boolean;
  /** Completing a default-resolved value calls something that takes the field's info (resolveType, isTypeOf, resolvers below). */
  needsInfo: boolean;
}

/** What one operation's execution needs: the plan's part (per document) and the request's. */
interface Run {
  plan: OperationPlan;
  contextValue: unknown;
  variableValues: Record<string, unknown>;
}

interface OperationPlan {
  schema: GraphQLSchema;
  operation: OperationDefinitionNode;
  fragments: Fragments;
  rootType: GraphQLObjectType;
  responseName: string;
  fieldNodes: ReadonlyArray<FieldNode>;
  field: GraphQLField<unknown, unknown>;
  /** Sub-selections per (field nodes, object type): the same for every request. */
  subfields: WeakMap<ReadonlyArray<FieldNode>, Map<GraphQLObjectType, SelectedField[]>>;
}

export interface LaneExecutor {
  /**
   * The operation's result, as graphql-js `execute` gives it. `coerced` are the variables
   * getVariableValues returned for `raw` (the lane checks them before anything runs).
   */
  execute(args: {
    document: DocumentNode;
    operationName: string | null | undefined;
    contextValue: unknown;
    raw: Record<string, unknown> | null | undefined;
    coerced: Record<string, unknown>;
  }): ExecutionResult | Promise<ExecutionResult>;
  /** Whether a plan completes this operation's clean answers (false: graphql-js executes all of it). */
  covers(document: DocumentNode, operationName: string | null | undefined): boolean;
}

/** An executor for `schema`; null plans fall back to graphql-js `execute`, so it may always be used. */
export function laneExecutor(schema: GraphQLSchema): LaneExecutor {
  const replay = replaySchema(schema);
  // One plan (or null: not covered) per document and operation name, for as long as the document lives.
  const plans = new WeakMap<DocumentNode, Map<string | null, OperationPlan | null>>();
  const planFor = (document: DocumentNode, operationName: string | null): OperationPlan | null => {
    let byName = plans.get(document);
    if (!byName) plans.set(document, (byName = new Map()));
    let plan = byName.get(operationName);
    if (plan === undefined) byName.set(operationName, (plan = replay && compilePlan(schema, document, operationName)));
    return plan;
  };

  return {
    covers: (document, operationName) => planFor(document, operationName ?? null) !== null,
    execute({ document, operationName, contextValue, raw, coerced }) {
      const plan = planFor(document, operationName ?? null);
      const graphqlJs = (outcome?: Outcome) => {
        if (!outcome) return execute({ schema, document, operationName, variableValues: raw, contextValue });
        replays.set(contextValue as object, outcome);
        const result = execute({ schema: replay!, document, operationName, variableValues: raw, contextValue });
        const done = () => replays.delete(contextValue as object);
        if (isThenable(result)) return (result as Promise<ExecutionResult>).finally(done);
        done();
        return result;
      };
      if (!plan) return graphqlJs();
      return runPlan({ plan, contextValue, variableValues: coerced }, graphqlJs);
    },
  };
}

/** The root field's outcome: what its resolver returned (awaited), or what it threw. */
type Outcome = { value: unknown } | { error: unknown };

async function runPlan(run: Run, graphqlJs: (outcome?: Outcome) => ExecutionResult | Promise<ExecutionResult>): Promise<ExecutionResult> {
  const { plan, contextValue, variableValues } = run;
  const { field, fieldNodes, rootType, responseName } = plan;
  const path: Path = { prev: undefined, key: responseName, typename: rootType.name };
  const info = resolveInfo(run, field, fieldNodes, rootType, path);
  let args: Record<string, unknown>;
  try {
    args = getArgumentValues(field, fieldNodes[0]!, variableValues);
  } catch {
    return graphqlJs(); // the same arguments fail there the same way, before any resolver runs
  }
  let outcome: Outcome;
  try {
    outcome = { value: await (field.resolve ?? defaultFieldResolver)(undefined, args, contextValue, info) };
  } catch (error) {
    outcome = { error };
  }
  if ('error' in outcome) return graphqlJs(outcome);
  let completed: unknown;
  try {
    completed = complete(run, field.type, fieldNodes, info, path, outcome.value);
  } catch {
    // A resolveType or isTypeOf that throws: graphql-js reports it at its field.
    completed = NOT_CLEAN;
  }
  if (completed === NOT_CLEAN) return graphqlJs(outcome);
  return { data: { [responseName]: completed } };
}

/** graphql-js's completeValue for the clean case; NOT_CLEAN where graphql-js would raise an error (or where the plan stops). */
function complete(run: Run, type: GraphQLOutputType, fieldNodes: ReadonlyArray<FieldNode>, info: GraphQLResolveInfo | null, path: Path, value: unknown): unknown {
  // graphql-js awaits a promise wherever a value may be (a property, a list item): the plan does not.
  if (value instanceof Error || isThenable(value)) return NOT_CLEAN;
  if (isNonNullType(type)) {
    if (value == null) return NOT_CLEAN;
    return complete(run, type.ofType, fieldNodes, info, path, value);
  }
  if (value == null) return null;
  if (isLeafType(type)) {
    let serialized: unknown;
    try {
      serialized = type.serialize(value);
    } catch {
      return NOT_CLEAN;
    }
    return serialized == null ? NOT_CLEAN : serialized;
  }
  if (isListType(type)) {
    if (!Array.isArray(value)) return NOT_CLEAN; // other iterables: graphql-js's own path
    const items = new Array<unknown>(value.length);
    // Items' paths only where something below them reads one (not for leaves).
    const itemPaths = completionNeedsInfo(type.ofType);
    for (let index = 0; index < value.length; index++) {
      const itemPath: Path = itemPaths ? { prev: path, key: index, typename: undefined } : path;
      const item = complete(run, type.ofType, fieldNodes, info, itemPath, value[index]);
      if (item === NOT_CLEAN) return NOT_CLEAN;
      items[index] = item;
    }
    return items;
  }
  if (isAbstractType(type)) {
    if (!info) return NOT_CLEAN;
    const typeName = (type.resolveType ?? defaultTypeResolver)(value, run.contextValue, info, type);
    if (typeof typeName !== 'string') return NOT_CLEAN; // a promise, or something graphql-js reports
    const runtimeType = run.plan.schema.getType(typeName);
    if (!isObjectType(runtimeType) || !run.plan.schema.isSubType(type, runtimeType)) return NOT_CLEAN;
    return completeObject(run, runtimeType, fieldNodes, info, path, value);
  }
  if (isObjectType(type)) return completeObject(run, type, fieldNodes, info, path, value);
  return NOT_CLEAN;
}

function completeObject(run: Run, type: GraphQLObjectType, fieldNodes: ReadonlyArray<FieldNode>, info: GraphQLResolveInfo | null, path: Path, source: unknown): unknown {
  if (type.isTypeOf) {
    if (!info) return NOT_CLEAN;
    const isTypeOf = type.isTypeOf(source, run.contextValue, info);
    if (!isTypeOf || isThenable(isTypeOf)) return NOT_CLEAN;
  }
  // A plain object, not graphql-js's Object.create(null): V8 keeps it in fast mode, which makes
  // building it and JSON.stringify over it much cheaper; the serialized answer is the same (the
  // plan never covers a `__proto__` alias, the one key that would differ).
  const result: Record<string, unknown> = {};
  for (const { responseName, fieldNodes: subNodes, field, isTypename, needsInfo } of subfieldsOf(run.plan, type, fieldNodes)) {
    let value: unknown;
    let subInfo: GraphQLResolveInfo | null = null;
    // A default-resolved leaf is completed without its path (nothing below it reads one).
    let subPath = path;
    if (isTypename) {
      value = type.name;
    } else if (!field.resolve) {
      // graphql-js's default resolver, without the info it only needs for a function-valued property.
      value = (typeof source === 'object' && source !== null) || typeof source === 'function' ? (source as Record<string, unknown>)[field.name] : undefined;
      if (typeof value === 'function') return NOT_CLEAN;
      if (needsInfo) {
        subPath = { prev: path, key: responseName, typename: type.name };
        subInfo = resolveInfo(run, field, subNodes, type, subPath);
      }
    } else {
      subPath = { prev: path, key: responseName, typename: type.name };
      subInfo = resolveInfo(run, field, subNodes, type, subPath);
      try {
        const args = field.args.length === 0 ? {} : getArgumentValues(field, subNodes[0]!, run.variableValues);
        value = field.resolve(source, args, run.contextValue, subInfo);
      } catch {
        return NOT_CLEAN;
      }
    }
    const completed = complete(run, field.type, subNodes, subInfo, subPath, value);
    if (completed === NOT_CLEAN) return NOT_CLEAN;
    result[responseName] = completed;
  }
  return result;
}

function subfieldsOf(plan: OperationPlan, type: GraphQLObjectType, fieldNodes: ReadonlyArray<FieldNode>): SelectedField[] {
  let byType = plan.subfields.get(fieldNodes);
  if (!byType) plan.subfields.set(fieldNodes, (byType = new Map()));
  let selected = byType.get(type);
  if (!selected) {
    selected = [];
    for (const [responseName, subNodes] of collectSubfields(plan.schema, plan.fragments, {}, type, fieldNodes)) {
      const field = getFieldDef(plan.schema, type, subNodes[0]!);
      // graphql-js skips a field the type does not have (validation rules it out).
      if (field) selected.push({ responseName, fieldNodes: subNodes, field, isTypename: field === TypeNameMetaFieldDef, needsInfo: completionNeedsInfo(field.type) });
    }
    byType.set(type, selected);
  }
  return selected;
}

/** The info graphql-js's buildResolveInfo gives a resolver. */
function resolveInfo(run: Run, field: GraphQLField<unknown, unknown>, fieldNodes: ReadonlyArray<FieldNode>, parentType: GraphQLObjectType, path: Path): GraphQLResolveInfo {
  const { plan } = run;
  // Exactly graphql-js's fields (other packages' typings add optional ones to the interface).
  return {
    fieldName: field.name,
    fieldNodes,
    returnType: field.type,
    parentType,
    path,
    schema: plan.schema,
    fragments: plan.fragments,
    rootValue: undefined,
    operation: plan.operation,
    variableValues: run.variableValues,
  } as GraphQLResolveInfo;
}

/** A plan for the operation, or null when the plan does not cover it (graphql-js executes it). */
function compilePlan(schema: GraphQLSchema, document: DocumentNode, operationName: string | null): OperationPlan | null {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName === null ? (operations.length === 1 ? operations[0] : undefined) : operations.find((o) => o.name?.value === operationName);
  if (!operation || operation.operation === 'subscription' || !plainSelections(document)) return null;
  const rootType = schema.getRootType(operation.operation);
  if (!rootType) return null;
  const fragments = fragmentsOf(document);
  const rootFields = collectFields(schema, fragments, {}, rootType, operation.selectionSet);
  if (rootFields.size !== 1) return null;
  const [responseName, fieldNodes] = rootFields.entries().next().value!;
  const field = getFieldDef(schema, rootType, fieldNodes[0]!);
  // Introspection and __typename at the root stay with graphql-js.
  if (!field || field.name.startsWith('__')) return null;
  return { schema, operation, fragments, rootType, responseName, fieldNodes, field, subfields: new WeakMap() };
}

/**
 * Whether the plan may cover the document: no selection carries @skip or @include (field
 * collection would depend on variables), and no alias is `__proto__` (on the plan's plain result
 * objects that key would set the prototype).
 */
function plainSelections(document: DocumentNode): boolean {
  let plain = true;
  visit(document, {
    Directive(node) {
      if (node.name.value === 'skip' || node.name.value === 'include') plain = false;
    },
    Field(node) {
      if (node.alias?.value === '__proto__') plain = false;
    },
  });
  return plain;
}

// The outcome a replay returns for its operation, keyed by that operation's context (one per operation).
const replays = new WeakMap<object, Outcome>();

/**
 * The schema with each root field's resolver replaced by one that returns the outcome the lane
 * already has (and runs the real resolver when there is none). Every other type is shared with
 * `schema`. Null when it cannot be built: the plan is then never used.
 */
function replaySchema(schema: GraphQLSchema): GraphQLSchema | null {
  try {
    const config = schema.toConfig();
    const replaced = new Map<GraphQLObjectType, GraphQLObjectType>();
    for (const root of [config.query, config.mutation]) {
      if (!root) continue;
      const rootConfig = root.toConfig();
      const fields = Object.fromEntries(
        Object.entries(rootConfig.fields).map(([name, fieldConfig]) => [name, { ...fieldConfig, resolve: replaying(fieldConfig.resolve) }]),
      );
      replaced.set(root, new GraphQLObjectType({ ...rootConfig, fields }));
    }
    const swap = <T>(type: T) => ((replaced.get(type as GraphQLObjectType) as T | undefined) ?? type);
    const replay = new GraphQLSchema({
      ...config,
      query: config.query && swap(config.query),
      mutation: config.mutation && swap(config.mutation),
      types: config.types.map(swap),
    });
    return validateSchema(replay).length === 0 ? replay : null;
  } catch {
    return null;
  }
}

function replaying(resolve: GraphQLFieldResolver<unknown, unknown> | undefined): GraphQLFieldResolver<unknown, unknown> {
  const real = resolve ?? defaultFieldResolver;
  return (source, args, contextValue, info) => {
    const outcome = replays.get(contextValue as object);
    if (!outcome) return real(source, args, contextValue, info);
    if ('error' in outcome) throw outcome.error;
    return outcome.value;
  };
}

function completionNeedsInfo(type: GraphQLOutputType): boolean {
  let inner = type;
  while (isNonNullType(inner) || isListType(inner)) inner = inner.ofType;
  return !isLeafType(inner);
}

function isThenable(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

