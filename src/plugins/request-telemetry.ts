// Runs the request observers (telemetry/observers.ts) from Yoga's hooks, and the first of them:
// the facts every other observer reads (telemetry/request-telemetry.ts), the operation from the
// parsed document, the outcome from the result. The fast lane runs the same list (lane/safety.ts).

import { getOperationAST } from 'graphql';
import type { DocumentNode, ExecutionResult, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { rootFieldsOf } from '../schema/operation-walk.js';
import { runObservers } from '../telemetry/observers.js';
import type { RequestObserver } from '../telemetry/observers.js';
import { isObjectTypeName } from '../telemetry/outcomes.js';
import { telemetryOf, seenTelemetryOf } from '../telemetry/request-telemetry.js';
import type { RequestTelemetry } from '../telemetry/request-telemetry.js';

/** Paths that are probes, not requests: neither logged nor counted (docs/operations.md). */
export const PROBE_PATHS: ReadonlySet<string> = new Set(['/health', '/ready', '/metrics']);

// The observers each plugin made here runs: what the fast lane runs in its place (the gateway's
// assembly declares it so; this module knows nothing of the lane).
const observersOfPlugin = new WeakMap<Plugin, readonly RequestObserver[]>();

/** The observers a plugin made by useRequestObservers runs; undefined for any other plugin. */
export function requestObserversOf(plugin: Plugin): readonly RequestObserver[] | undefined {
  return observersOfPlugin.get(plugin);
}

/**
 * The Yoga plugin that runs these observers for every request but probes. Lane-safe because the
 * lane runs the same observers (requestObserversOf): put it first, so refusals are observed too.
 */
export function useRequestObservers(observers: readonly RequestObserver[]): Plugin {
  const run = runObservers(observers);
  const plugin: Plugin = {
    onRequest({ request, url }) {
      if (!PROBE_PATHS.has(url.pathname)) run.onStart(telemetryOf(request), request);
    },
    onParams({ request, params }) {
      const telemetry = seenTelemetryOf(request);
      if (telemetry) run.onParams(telemetry, params.operationName);
    },
    onExecute({ args }) {
      const telemetry = seenTelemetryOf((args.contextValue as { request: Request }).request);
      if (telemetry) run.onOperation(telemetry, args.document, args.operationName ?? null);
    },
    onResultProcess({ request, result }) {
      const telemetry = seenTelemetryOf(request);
      if (telemetry && !Array.isArray(result) && !(Symbol.asyncIterator in result)) run.onResult(telemetry, result);
    },
    onResponse({ request, response }) {
      const telemetry = seenTelemetryOf(request);
      if (!telemetry) return;
      run.onEnd(telemetry, {
        method: request.method,
        path: pathOf(request.url),
        status: response.status,
        setHeader: (name, value) => response.headers.set(name, value),
      });
    },
  };
  observersOfPlugin.set(plugin, observers);
  return plugin;
}

/** The path of an absolute URL, without parsing all of it. */
function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  const end = url.indexOf('?', start);
  return start < 0 ? '/' : url.slice(start, end < 0 ? undefined : end);
}

/** The facts the log line, metrics and span read: first in the observer list. */
export function requestFacts(schema: GraphQLSchema): RequestObserver {
  return {
    onParams: recordRequestedName,
    onOperation: recordOperation,
    onResult: (telemetry, result) => recordOutcome(telemetry, result, schema),
  };
}


function recordRequestedName(telemetry: RequestTelemetry, operationName: unknown): void {
  if (typeof operationName === 'string') telemetry.operationName = operationName;
}

/** The executed operation's type, name and root fields. */
function recordOperation(telemetry: RequestTelemetry, document: DocumentNode, operationName: string | null): void {
  const operation = operationFactsOf(document, operationName);
  if (!operation) return;
  telemetry.operationType = operation.type;
  telemetry.operationName ??= operation.name;
  telemetry.rootFields = operation.rootFields;
}

interface OperationFacts {
  /** The operationName these facts were read for. */
  requested: string | null;
  type: string;
  name: string | null;
  rootFields: string;
}

// Yoga's parser cache hands out the same DocumentNode for the same text, so each document is read once.
const operationFacts = new WeakMap<DocumentNode, OperationFacts>();

function operationFactsOf(document: DocumentNode, requested: string | null): OperationFacts | null {
  const cached = operationFacts.get(document);
  if (cached?.requested === requested) return cached;
  const operation = getOperationAST(document, requested);
  if (!operation) return null;
  const facts = {
    requested,
    type: operation.operation,
    name: operation.name?.value ?? null,
    rootFields: rootFieldLabel(document, operation),
  };
  operationFacts.set(document, facts);
  return facts;
}

/** The names (not aliases) of the root fields, through fragments, each once and sorted: a label bounded by the schema. */
function rootFieldLabel(document: DocumentNode, operation: OperationDefinitionNode): string {
  return [...new Set(rootFieldsOf(document, operation).map(({ node }) => node.name.value))].sort().join(',');
}

/**
 * The first error's code and the first root field's __typename, when that names one of the
 * schema's object types (`__typename` may be an alias of another field, such as a message).
 */
function recordOutcome(telemetry: RequestTelemetry, result: ExecutionResult, schema: GraphQLSchema): void {
  const error = result.errors?.[0];
  if (error) {
    const code = error.extensions?.code;
    telemetry.errorCode = typeof code === 'string' ? code : 'ERROR';
  }
  if (result.data) {
    for (const key in result.data) {
      const value = result.data[key] as { __typename?: unknown } | null;
      if (value && isObjectTypeName(schema, value.__typename)) telemetry.resultType = value.__typename;
      break;
    }
  }
}
