// The lane's executor against graphql-js `execute` itself, on a schema made to reach every way a
// completion can go: each case is executed by both, and the answers must serialize to the same
// bytes (data, errors with messages, locations, paths and extensions, key order), with the root
// resolver — the one with a side effect — run exactly once by the lane either way.

import { GraphQLError, GraphQLScalarType, buildSchema, execute, getVariableValues, parse } from 'graphql';
import type { GraphQLFieldResolver, GraphQLObjectType, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import { beforeEach, describe, expect, test } from 'vitest';
import { laneExecutor } from '../../src/lane/executor.js';

const sdl = /* GraphQL */ `
  scalar Odd
  enum Level { LOW HIGH }
  interface Named { name: String! }
  type Person implements Named { name: String! age: Int nick: String }
  type Robot implements Named { name: String! serial: Int! }
  type Problem { message: String! }
  union Outcome = Award | Problem
  type Item { id: ID! label(upper: Boolean = false): String tags: [String!] level: Level odd: Odd }
  type Award {
    id: ID!
    points: Int!
    score: Float
    items: [Item!]!
    maybeItems: [Item]
    owner: Named
    nested: Award
    strict: Item!
    computed(times: Int!): Int
    lazy: String
    failing: String
    method: String
  }
  type Query { award(id: ID!): Award  outcome: Outcome  named: [Named!]! other: Int }
  type Mutation { give(points: Int!, input: GiveInput): Outcome! giveNullable(points: Int!): Award }
  input GiveInput { note: String level: Level }
`;

interface Scenario {
  /** What the root resolver answers (a function of its arguments), or throws / rejects. */
  root: (args: Record<string, unknown>) => unknown;
}

let scenario: Scenario;
let rootCalls = 0;
let nestedCalls = 0;

function makeSchema(): GraphQLSchema {
  const schema = buildSchema(sdl);
  const field = (type: string, name: string, resolve: GraphQLFieldResolver<unknown, unknown>) => {
    (schema.getType(type) as GraphQLObjectType).getFields()[name]!.resolve = resolve;
  };
  const root: GraphQLFieldResolver<unknown, unknown> = (_source, args) => {
    rootCalls++;
    return scenario.root(args);
  };
  for (const [type, name] of [['Query', 'award'], ['Query', 'outcome'], ['Query', 'named'], ['Mutation', 'give'], ['Mutation', 'giveNullable']] as const) field(type, name, root);
  field('Award', 'computed', (source, args) => {
    nestedCalls++;
    return (source as { points: number }).points * (args as { times: number }).times;
  });
  field('Award', 'lazy', async () => {
    nestedCalls++;
    return 'later';
  });
  field('Award', 'failing', () => {
    nestedCalls++;
    throw new GraphQLError('nested failure', { extensions: { code: 'NESTED' } });
  });
  field('Item', 'label', (source, args) => {
    nestedCalls++;
    const label = (source as { label?: string }).label ?? null;
    return label && (args as { upper: boolean }).upper ? label.toUpperCase() : label;
  });
  (schema.getType('Outcome') as unknown as { resolveType: unknown }).resolveType = (value: { kind?: string }) => {
    if (value.kind === 'explode') throw new Error('resolveType failed');
    return value.kind;
  };
  (schema.getType('Named') as unknown as { resolveType: unknown }).resolveType = (value: { serial?: number; async?: boolean }) =>
    value.async ? Promise.resolve('Robot') : value.serial !== undefined ? 'Robot' : 'Person';
  (schema.getType('Person') as GraphQLObjectType).isTypeOf = (value: { notAPerson?: boolean; explode?: boolean }) => {
    if (value.explode) throw new Error('isTypeOf failed');
    return !value.notAPerson;
  };
  const odd = schema.getType('Odd') as GraphQLScalarType;
  odd.serialize = (value: unknown) => {
    if (typeof value !== 'number' || value % 2 === 0) throw new TypeError(`not odd: ${String(value)}`);
    return value;
  };
  return schema;
}

const schema = makeSchema();
const executor = laneExecutor(schema);

const item = (id: number, extra: Record<string, unknown> = {}) => ({ id, label: `item ${id}`, tags: ['a', 'b'], level: 'HIGH', odd: 3, ...extra });
const award = (extra: Record<string, unknown> = {}) => ({
  kind: 'Award',
  id: 42,
  points: 7,
  score: 1.5,
  items: [item(1), item(2)],
  maybeItems: [item(3), null],
  owner: { name: 'Ada', age: 36 },
  nested: { id: 43, points: 1, items: [], strict: item(9) },
  strict: item(4),
  method: 'plain',
  ...extra,
});

const FULL = /* GraphQL */ `
  fragment ItemFields on Item { id label tags level odd }
  mutation Give($points: Int!, $input: GiveInput, $upper: Boolean!) {
    give(points: $points, input: $input) {
      __typename
      ... on Award {
        id points score
        items { ...ItemFields loud: label(upper: $upper) }
        maybeItems { id }
        owner { __typename name ... on Person { age } ... on Robot { serial } }
        nested { id nested { id } strict { id } }
        strict { id label }
        computed(times: 3)
        ... on Award { id points items { id } }
      }
      ... on Problem { message }
    }
  }
`;

interface Case {
  name: string;
  document?: string;
  variables?: Record<string, unknown>;
  root: Scenario['root'];
  /** The plan completes it by itself (nested resolvers run once); otherwise graphql-js answers. */
  clean?: boolean;
}

const variables = { points: 7, input: { note: 'hi', level: 'LOW' }, upper: true };

const cases: Case[] = [
  { name: 'a full selection: fragments, aliases, merged fields, lists, a union, an interface, arguments', root: () => award(), clean: true },
  { name: 'the root resolver answers asynchronously', root: async () => award(), clean: true },
  { name: 'a union member that is not the success', root: () => ({ kind: 'Problem', message: 'no' }), clean: true },
  { name: 'the root resolver throws a coded GraphQLError', root: () => { throw new GraphQLError('refused', { extensions: { code: 'FORBIDDEN' } }); } },
  { name: 'the root resolver rejects with a plain Error', root: async () => { throw new Error('upstream down'); } },
  { name: 'the root resolver returns an Error', root: () => new Error('returned, not thrown') },
  { name: 'null for the non-null root field', root: () => null },
  { name: 'resolveType names no type', root: () => ({ ...award(), kind: 'Nothing' }) },
  { name: 'resolveType names a type outside the union', root: () => ({ ...award(), kind: 'Item' }) },
  { name: 'a non-null nested field is null (bubbles to the nullable parent)', root: () => award({ nested: { id: 43, points: 1, items: [], strict: null } }) },
  { name: 'a non-null list item is null', root: () => award({ items: [item(1), null] }) },
  { name: 'a leaf fails to serialize (custom scalar)', root: () => award({ items: [item(1, { odd: 2 })] }) },
  { name: 'a leaf fails to serialize (Int from text)', root: () => award({ points: 'many' }) },
  { name: 'an enum value that does not exist', root: () => award({ items: [item(1, { level: 'MEDIUM' })] }) },
  { name: 'a list that is a Set, not an array', root: () => award({ items: new Set([item(1)]) }) },
  { name: 'a list that is not iterable', root: () => award({ items: 5 }) },
  { name: 'a property holding a promise (graphql-js awaits it)', root: () => award({ points: Promise.resolve(8), strict: Promise.resolve(item(5)) }) },
  {
    name: 'a nullable object held as a promise, all its fields nullable',
    root: () => award({ nested: Promise.resolve({ score: 2.5 }), maybeItems: [Promise.resolve({ label: 'x' })] }),
    document: 'mutation { give(points: 1) { ... on Award { nested { score } maybeItems { tags } } } }',
  },
  { name: 'list items that are promises', root: () => award({ items: [Promise.resolve(item(1)), item(2)], maybeItems: [Promise.reject(new Error('item failed'))] }) },
  { name: 'resolveType throws', root: () => ({ ...award(), kind: 'explode' }) },
  { name: 'isTypeOf throws', root: () => award({ owner: { name: 'x', explode: true } }) },
  { name: 'isTypeOf refuses the value', root: () => award({ owner: { name: 'x', notAPerson: true } }) },
  { name: 'an abstract type resolved asynchronously', root: () => award({ owner: { name: 'r2', serial: 2, async: true } }) },
  { name: 'a function-valued property under the default resolver', root: () => award({ method: () => 'called' }), document: 'mutation { give(points: 1) { ... on Award { method } } }' },
  {
    name: 'a nested resolver that throws',
    root: () => award(),
    document: 'mutation { give(points: 1) { ... on Award { id failing } } }',
  },
  {
    name: 'a nested resolver that answers asynchronously',
    root: () => award(),
    document: 'mutation { give(points: 1) { ... on Award { id lazy computed(times: 2) } } }',
  },
  { name: 'a nullable root field answered null', root: () => null, document: 'mutation { giveNullable(points: 1) { id } }', clean: true },
  { name: 'a query with one root field', root: () => award(), document: 'query ($id: ID!) { award(id: $id) { id points strict { id label(upper: true) } } }', variables: { id: '42' }, clean: true },
  { name: 'a list of an interface at the root', root: () => [{ name: 'Ada', age: 3 }, { name: 'R2', serial: 2 }], document: '{ named { __typename name ... on Robot { serial } } }', clean: true },
  { name: 'two root fields (graphql-js executes it)', root: () => award(), document: '{ a: award(id: 1) { id } b: award(id: 2) { points } }' },
  { name: '@include (graphql-js executes it)', root: () => award(), document: 'query ($yes: Boolean!) { award(id: 1) { id points @include(if: $yes) } }', variables: { yes: false } },
  { name: 'an alias named __proto__ (graphql-js executes it)', root: () => award(), document: 'mutation { give(points: 1) { ... on Award { __proto__: id constructor: points } } }' },
  { name: 'root __typename beside a field (graphql-js executes it)', root: () => award(), document: '{ __typename award(id: 1) { id } }' },
];

/** What a client would receive, and what Yoga's error masking reads. */
function observable(result: Awaited<ReturnType<typeof execute>>) {
  return {
    json: JSON.stringify(result),
    originalErrors: result.errors?.map((error) => [error.message, error.originalError?.constructor.name ?? null, error.originalError?.message ?? null]),
  };
}

describe('the lane executor answers exactly as graphql-js execute', () => {
  beforeEach(() => {
    rootCalls = 0;
    nestedCalls = 0;
  });

  test.each(cases)('$name', async ({ document = FULL, variables: given = variables, root, clean }) => {
    scenario = { root };
    const parsed = parse(document);
    const operation = parsed.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition')!;
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], given);
    expect(coerced.errors).toBeUndefined();

    const expected = observable(await execute({ schema, document: parsed, variableValues: given, contextValue: {} }));
    const rootCallsByGraphqlJs = rootCalls;
    const nestedCallsByGraphqlJs = nestedCalls;
    rootCalls = 0;
    nestedCalls = 0;

    // Twice: the second run uses the plan compiled by the first.
    for (let run = 0; run < 2; run++) {
      const callsBefore = rootCalls;
      const nestedBefore = nestedCalls;
      const answer = observable(await executor.execute({ document: parsed, operationName: undefined, contextValue: {}, raw: given, coerced: coerced.coerced! }));
      expect(answer).toEqual(expected);
      expect(rootCalls - callsBefore).toBe(rootCallsByGraphqlJs);
      // Completed by the plan: each nested resolver ran once, as under graphql-js (a replay runs them twice).
      if (clean) expect(nestedCalls - nestedBefore).toBe(nestedCallsByGraphqlJs);
    }
  });

  test('a clean answer runs each nested resolver once; a replayed one runs them again, never the root resolver', async () => {
    const parsed = parse('mutation { give(points: 1) { ... on Award { computed(times: 2) lazy } } }');
    scenario = { root: () => award() };
    await executor.execute({ document: parsed, operationName: undefined, contextValue: {}, raw: {}, coerced: {} });
    // `lazy` is asynchronous: the plan stops there and graphql-js answers, replaying the root value
    // (computed and lazy ran in the plan, then again under graphql-js).
    expect({ rootCalls, nestedCalls }).toEqual({ rootCalls: 1, nestedCalls: 4 });

    rootCalls = 0;
    nestedCalls = 0;
    const clean = parse('mutation { give(points: 1) { ... on Award { computed(times: 2) } } }');
    await executor.execute({ document: clean, operationName: undefined, contextValue: {}, raw: {}, coerced: {} });
    expect({ rootCalls, nestedCalls }).toEqual({ rootCalls: 1, nestedCalls: 1 });
  });
});

test("the gateway's own schema gets plans: the bench's documents and a federation query are covered, conditional ones are not", async () => {
  const { subgraphSchema: gatewaySchema } = await import('../../src/schema/index.js');
  const { DOCUMENT, SMALL_DOCUMENT } = await import('../../bench/shared.js');
  const gateway = laneExecutor(gatewaySchema);
  expect(gateway.covers(parse(DOCUMENT), 'Add')).toBe(true);
  expect(gateway.covers(parse(SMALL_DOCUMENT), 'AddSmall')).toBe(true);
  expect(gateway.covers(parse('query ($r: [_Any!]!) { _entities(representations: $r) { ... on Challenge { id } } }'), null)).toBe(true);
  expect(gateway.covers(parse('query ($y: Boolean!) { challenge(id: "1") { id points @skip(if: $y) } }'), null)).toBe(false);
});
