// Everything the fast lane borrows from others' internals, in one place. From graphql-js, the
// non-public field collection (collectFields, collectSubfields) and field lookup (getFieldDef)
// the lane's executor plans with. From Yoga: its JSON result processor (captured through a
// stand-in Response), and the hand-over of a body already read (@whatwg-node/server reads
// `req.body` instead of the request stream). `checkInternals` tries each at start-up: after an
// upgrade that breaks one, the lane stays off and says why. (Error masking is not borrowed: the
// gateway's assembly gives the lane the mask it gives Yoga's public `maskedErrors` option.)

import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { GraphQLObjectType, TypeNameMetaFieldDef, buildSchema, parse } from 'graphql';
import type { ExecutionResult, FieldNode, FragmentDefinitionNode, OperationDefinitionNode } from 'graphql';
// Namespace imports: a function a later graphql-js no longer exports is undefined here, which
// checkInternals reports, instead of a module that fails to load.
import * as collectFieldsModule from 'graphql/execution/collectFields.js';
import * as executeModule from 'graphql/execution/execute.js';
import { processRegularResult } from 'graphql-yoga';
import type { YogaServerInstance } from 'graphql-yoga';

/** graphql-js's non-public functions the lane's executor (executor.ts) uses. */
export interface GraphqlInternals {
  collectFields: typeof collectFieldsModule.collectFields;
  collectSubfields: typeof collectFieldsModule.collectSubfields;
  getFieldDef: typeof executeModule.getFieldDef;
}

export const graphqlInternals: GraphqlInternals = {
  collectFields: collectFieldsModule.collectFields,
  collectSubfields: collectFieldsModule.collectSubfields,
  getFieldDef: executeModule.getFieldDef,
};

// A Yoga instance as this module reads it (any context type).
type AnyYoga = Pick<YogaServerInstance<Record<string, never>, Record<string, never>>, 'fetchAPI'>;

export interface CapturedAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

// processRegularResult builds its Response synchronously: one stand-in class, defined once,
// hands what it was given to the caller through `captured`.
let captured: CapturedAnswer | undefined;
class CapturedResponse {
  constructor(body: string, init: { status: number; headers: Record<string, string> }) {
    const answer: CapturedAnswer = { status: init.status, headers: { 'content-type': init.headers['Content-Type']! }, body };
    for (const name in init.headers) if (name !== 'Content-Type') answer.headers[name] = init.headers[name]!;
    captured = answer;
  }
}
const CAPTURING_FETCH_API = { Response: CapturedResponse } as unknown as Parameters<typeof processRegularResult>[1];

/** Runs Yoga's own JSON result processor, keeping what it would put in a Response. */
export function captureRegularResult(result: ExecutionResult, mediaType: string): CapturedAnswer {
  captured = undefined;
  processRegularResult(result, CAPTURING_FETCH_API, mediaType);
  const answer = captured!;
  captured = undefined;
  return answer;
}

/**
 * Gives Yoga a body the lane has already read. As a stream it is read as Yoga reads its own
 * request; a Buffer would first be walked key by key (Object.keys over every byte: 240 ms of CPU per MB).
 */
export function handOverBody(req: IncomingMessage, body: Buffer): void {
  (req as IncomingMessage & { body?: Readable }).body = Readable.from([body], { objectMode: false });
}

const SAMPLE_BODY = '{"query":"{ __typename }"}';

/**
 * Tries each internal the lane uses; the problems found (none: the lane may run). `graphql` is
 * graphql-js's, given as a parameter so a test can hand in a broken one.
 */
export async function checkInternals(yoga: AnyYoga, graphql: GraphqlInternals = graphqlInternals): Promise<string[]> {
  const problems = checkGraphqlInternals(graphql);
  try {
    const answer = captureRegularResult({ data: { ok: true } }, 'application/json');
    if (answer?.status !== 200 || answer.body !== '{"data":{"ok":true}}' || !answer.headers['content-type']?.startsWith('application/json')) {
      problems.push("Yoga's processRegularResult no longer builds the answer the lane expects");
    }
  } catch (error) {
    problems.push(`Yoga's processRegularResult failed: ${(error as Error).message}`);
  }
  try {
    if ((await handedOverText(yoga.fetchAPI)) !== SAMPLE_BODY) problems.push('@whatwg-node/server no longer reads a handed-over req.body');
  } catch (error) {
    problems.push(`@whatwg-node/server could not read a handed-over req.body: ${(error as Error).message}`);
  }
  return problems;
}

/**
 * What @whatwg-node/server (the copy graphql-yoga uses) reads from a request whose body was handed
 * over. From dist/gateway.mjs this loads the node_modules copy the bundle was built from, the same
 * code; the bundle's own test hands a body over for real (test/main.test.ts).
 */
async function handedOverText(fetchAPI: AnyYoga['fetchAPI']): Promise<string> {
  const fromYoga = createRequire(createRequire(import.meta.url).resolve('graphql-yoga'));
  const { normalizeNodeRequest } = fromYoga('@whatwg-node/server') as {
    normalizeNodeRequest(req: unknown, fetchAPI: unknown): Request;
  };
  const consumed = Readable.from([]) as Readable & Partial<IncomingMessage>;
  Object.assign(consumed, { method: 'POST', url: '/graphql', headers: { host: 'localhost', 'content-type': 'application/json' } });
  handOverBody(consumed as IncomingMessage, Buffer.from(SAMPLE_BODY));
  return normalizeNodeRequest(consumed, fetchAPI).text();
}

// A sample the graphql-js check runs through: two root fields (one through a fragment, one
// aliased) and an object below, as the executor's plans collect them.
const SAMPLE_SCHEMA = buildSchema('type Query { a: String b: Sub } type Sub { c: Int }');
const SAMPLE_DOCUMENT = parse('{ x: a ...F } fragment F on Query { b { c __typename } }');

/** graphql-js's internals as the executor relies on them: present, returning what it reads. */
function checkGraphqlInternals(graphql: GraphqlInternals): string[] {
  const missing = (['collectFields', 'collectSubfields', 'getFieldDef'] as const).filter((name) => typeof graphql[name] !== 'function');
  if (missing.length > 0) return missing.map((name) => `graphql-js no longer has ${name} where the lane imports it`);
  const problems: string[] = [];
  const query = SAMPLE_SCHEMA.getQueryType()!;
  const sub = SAMPLE_SCHEMA.getType('Sub') as GraphQLObjectType;
  const operation = SAMPLE_DOCUMENT.definitions[0] as OperationDefinitionNode;
  const fragments = { F: SAMPLE_DOCUMENT.definitions[1] as FragmentDefinitionNode };
  const namesOf = (collected: unknown) => (collected instanceof Map ? [...collected.keys()].join(',') : null);
  const nodesOf = (collected: unknown, key: string) =>
    (collected instanceof Map ? collected.get(key) : undefined) as ReadonlyArray<FieldNode> | undefined;
  try {
    const roots = graphql.collectFields(SAMPLE_SCHEMA, fragments, {}, query, operation.selectionSet);
    if (namesOf(roots) !== 'x,b') problems.push("graphql-js's collectFields no longer returns a Map of response names to field nodes");
    const xNode = nodesOf(roots, 'x')?.[0];
    if (!xNode || graphql.getFieldDef(SAMPLE_SCHEMA, query, xNode) !== query.getFields().a) {
      problems.push("graphql-js's getFieldDef no longer finds a field's definition");
    }
    const subfields = graphql.collectSubfields(SAMPLE_SCHEMA, fragments, {}, sub, nodesOf(roots, 'b') ?? []);
    const typenameNode = nodesOf(subfields, '__typename')?.[0];
    if (namesOf(subfields) !== 'c,__typename') problems.push("graphql-js's collectSubfields no longer returns a Map of response names to field nodes");
    else if (!typenameNode || graphql.getFieldDef(SAMPLE_SCHEMA, sub, typenameNode) !== TypeNameMetaFieldDef) {
      problems.push("graphql-js's getFieldDef no longer gives __typename's meta field");
    }
  } catch (error) {
    problems.push(`graphql-js's field collection failed: ${(error as Error).message}`);
  }
  return problems;
}
