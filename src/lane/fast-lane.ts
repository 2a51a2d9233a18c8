// The fast lane: serves the common request — a POST /graphql of a JSON document Yoga has already
// admitted — straight from node:http with graphql-js's execution (executor.ts), skipping Yoga's Fetch-API
// Request/Response adaptation and its hook chain (docs/performance.md). It decides nothing Yoga
// decides: it serves only documents Yoga parsed and validated before (every bound included),
// with the media type Yoga negotiated before for the same Accept header, masks errors with the
// function Yoga was given (FastLaneOptions.masking) and builds the answer with Yoga's own result processor. It runs the same request
// observers as Yoga's path (safety.ts), and takes only requests the CSRF, body-limit and CORS
// rules let through untouched, and none with an Idempotency-Key header (plugins/idempotency-key.ts). Anything else — and any request error, such as variables that do
// not coerce — goes to Yoga with the body it sent.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { getOperationAST, getVariableValues } from 'graphql';
import type { DocumentNode, ExecutionResult, GraphQLError, GraphQLSchema } from 'graphql';
import { createLRUCache, maskError } from 'graphql-yoga';
import type { Plugin, YogaMaskedErrorOpts, YogaServerInstance } from 'graphql-yoga';
import type { GatewayContext } from '../schema/context.js';
import { MAX_CACHED_DOCUMENT_LENGTH } from '../app/document-cache.js';
import type { NodeHandler } from '../http/guard.js';
import { laneExecutor } from './executor.js';
import { laneObservers, undeclaredPlugins } from './safety.js';
import type { Lifecycle } from '../app/lifecycle.js';
import type { Logger } from '../telemetry/logging.js';
import { isCorsRequest } from '../plugins/cors.js';
import { carriesIdempotencyKey } from '../plugins/idempotency-key.js';
import { csrfAllowsPost } from '../plugins/csrf.js';
import { bodyLengthRefusal } from '../plugins/request-body-limit.js';
import { boundAnswer } from '../plugins/response-size.js';
import { SERVICE_FIELD, selectsRootField } from '../plugins/service-sdl-guard.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import { runObservers } from '../telemetry/observers.js';
import { RequestTelemetry } from '../telemetry/request-telemetry.js';
import { nodeHeaders } from '../telemetry/tracing.js';
import { captureRegularResult, checkInternals, handOverBody } from './internals.js';

export interface FastLaneOptions {
  yoga: YogaServerInstance<Record<string, never>, GatewayContext>;
  /**
   * The plugin list Yoga was given: the lane runs only when every one is declared lane-safe, and
   * runs the request observers declared with them (safety.ts).
   */
  plugins: readonly Plugin[];
  schema: GraphQLSchema;
  /** What Yoga admitted before (`admissions.plugin()` must be in Yoga's plugin list). */
  admissions: Admissions;
  /** Yoga's context factory, minus Yoga: the same function builds both paths' contexts. */
  contextOf(authorization: string | null, telemetry: RequestTelemetry): GatewayContext;
  lifecycle: Lifecycle;
  logger: Logger;
  metrics: GatewayMetrics;
  /** The limit useRequestBodyLimit was given. */
  maxRequestBodyBytes: number;
  /** The limit useResponseSizeLimit was given. */
  maxResponseBytes: number;
  /** The masking Yoga was given (its `maskedErrors` option); Yoga's default masking when absent. */
  masking?: YogaMaskedErrorOpts;
}

// Yoga's masking when it is given none but `maskedErrors: true`.
const YOGA_DEFAULT_MASKING: YogaMaskedErrorOpts = { maskError, errorMessage: 'Unexpected error.' };

// A body the lane reads as Yoga would: JSON, in UTF-8.
const JSON_CONTENT_TYPE = /^application\/json(?:\s*;\s*charset=utf-8)?$/i;
const REQUEST_KEYS = new Set(['query', 'variables', 'operationName']);
const LARGE_ANSWER_CHARS = 64 * 1024;

export interface FastLaneStatus {
  on: boolean;
  reason: string;
}

export interface FastLane {
  /** The server's handler: the lane where it may serve, Yoga everywhere else. */
  handler: NodeHandler;
  /** Whether the lane runs, once its start-up checks are done (until then every request goes to Yoga). */
  status: Promise<FastLaneStatus>;
}

/** A node:http handler that serves what the fast lane can, and hands everything else to Yoga. */
export function withFastLane(options: FastLaneOptions): FastLane {
  const { yoga, lifecycle, maxRequestBodyBytes } = options;
  let serve: ((req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<void>) | null = null;
  const status = laneStatus(options).then((decided) => {
    if (decided.on) serve = fastLaneServer(options);
    options.logger.info('request paths', { fastLane: decided.on, reason: decided.reason });
    return decided;
  });
  // The lane takes a request only where each rule's owner would let it through untouched.
  const takes = ({ method, url, headers }: IncomingMessage): boolean => {
    const contentType = headers['content-type'] ?? null;
    return (
      method === 'POST' &&
      url === '/graphql' &&
      contentType !== null &&
      JSON_CONTENT_TYPE.test(contentType) &&
      csrfAllowsPost(contentType) &&
      bodyLengthRefusal(headers['content-length'], maxRequestBodyBytes) === null &&
      !isCorsRequest(headers.origin) &&
      !carriesIdempotencyKey(headers) &&
      !lifecycle.isDraining
    );
  };
  const handler: NodeHandler = (req, res) => {
    if (serve === null || !takes(req)) {
      void yoga(req, res);
      return;
    }
    const serveRead = serve!;
    readBody(req)
      .then((body) => serveRead(req, res, body))
      // The client went away mid-body: no one to answer.
      .catch(() => res.destroy());
  };
  return { handler, status };
}

/** Off when a plugin is undeclared or an internal the lane borrows fails its check (internals.ts); on otherwise. */
async function laneStatus({ yoga, plugins }: FastLaneOptions): Promise<FastLaneStatus> {
  const undeclared = undeclaredPlugins(plugins);
  if (undeclared > 0) {
    return { on: false, reason: `${undeclared} plugin(s) in Yoga's list are not declared lane-safe: every request goes to Yoga` };
  }
  const problems = await checkInternals(yoga);
  if (problems.length > 0) return { on: false, reason: `${problems.join('; ')}: every request goes to Yoga` };
  return { on: true, reason: 'every plugin is declared lane-safe and the internals the lane borrows passed their check' };
}

function fastLaneServer(options: FastLaneOptions) {
  const { yoga, plugins, schema, admissions, contextOf, metrics, maxResponseBytes, masking = YOGA_DEFAULT_MASKING } = options;
  const observe = runObservers(laneObservers(plugins));
  const executor = laneExecutor(schema);
  // The same mask as Yoga's path, and, as Yoga does, what it hides is logged through Yoga's logger.
  const mask = (error: unknown): GraphQLError => {
    const masked = masking.maskError(error, masking.errorMessage, masking.isDev);
    if (masked !== error) yoga.logger.error(error);
    return masked as GraphQLError;
  };

  const handOver = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    handOverBody(req, body);
    void yoga(req, res);
  };

  return async (req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> => {
    const params = parseParams(body);
    const admitted = params && admissions.documentFor(params.query, params.operationName);
    const mediaType = admitted && admissions.mediaTypeFor(req.headers.accept);
    if (!params || !admitted || !mediaType) return handOver(req, res, body);
    // A request error (variables that do not coerce) runs nothing: Yoga answers it, as always.
    const variables = getVariableValues(schema, admitted.operation.variableDefinitions ?? [], params.variables ?? {});
    if (variables.errors) return handOver(req, res, body);

    const headers = nodeHeaders(req.headers);
    const telemetry = new RequestTelemetry(headers);
    observe.onStart(telemetry, { method: 'POST', headers });
    observe.onParams(telemetry, params.operationName);
    let result: ExecutionResult;
    try {
      // As on Yoga's path: the context first, then the operation's observers, then execution.
      const contextValue = contextOf(headers.get('authorization'), telemetry);
      observe.onOperation(telemetry, admitted.document, params.operationName ?? null);
      // graphql-js's answer, from a plan compiled once per document where it covers it (executor.ts).
      const executed = await executor.execute({
        document: admitted.document,
        operationName: params.operationName,
        contextValue,
        raw: params.variables,
        coerced: variables.coerced,
      });
      result = executed.errors ? { ...executed, errors: executed.errors.map(mask) } : executed;
    } catch (error) {
      // execute reports resolver failures in `errors`; a throw (a context that cannot be built,
      // a bug) is answered as Yoga answers it: the masked error, what it hides logged.
      result = { errors: [mask(error)] };
    }
    // As useResponseSizeLimit does on Yoga's path: an answer over MAX_RESPONSE_BYTES is not serialised.
    result = boundAnswer(result, telemetry, maxResponseBytes, { mutation: admitted.operation.operation === 'mutation', onlyOperation: true });
    observe.onResult(telemetry, result);
    const answer = captureRegularResult(result, mediaType);
    // As Yoga's onResponse hooks do, before the answer leaves: request id, span, log line, metrics.
    observe.onEnd(telemetry, {
      method: 'POST',
      path: '/graphql',
      status: answer.status,
      setHeader: (name, value) => (answer.headers[name] = value),
    });
    // A large answer is encoded once, as bytes: as a string Node copies it whole into a new one with
    // the headers, and a client slow to drain it (up to RESPONSE_TIMEOUT_MS) keeps both alive.
    const payload = answer.body.length > LARGE_ANSWER_CHARS ? Buffer.from(answer.body) : answer.body;
    answer.headers['content-length'] = String(typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length);
    metrics.fastLaneRequests.inc();
    res.writeHead(answer.status, answer.headers);
    res.end(payload);
  };
}

interface Params {
  query: string;
  variables: Record<string, unknown> | null | undefined;
  operationName: string | null | undefined;
}

/** The body as GraphQL params, when it is exactly the shape the fast lane serves; null otherwise. */
function parseParams(body: Buffer): Params | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  for (const key of Object.keys(parsed)) if (!REQUEST_KEYS.has(key)) return null;
  const { query, variables, operationName } = parsed as Record<string, unknown>;
  if (typeof query !== 'string') return null;
  if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) return null;
  if (operationName != null && (typeof operationName !== 'string' || operationName === '')) return null;
  return { query, variables: variables as Params['variables'], operationName: operationName as Params['operationName'] };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once('error', reject);
    req.once('close', () => {
      if (!req.complete) reject(new Error('request body not complete'));
    });
  });
}

interface Admitted {
  document: DocumentNode;
  operation: NonNullable<ReturnType<typeof getOperationAST>>;
}

// Bounds the memory kept: at most 1,000 documents of at most 32 KiB of text each (a longer one
// always goes to Yoga), and 100 distinct Accept headers.
const MAX_DOCUMENTS = 1000;
const MAX_ACCEPT_VALUES = 100;
// Root fields whose answer depends on more than the document, variables and token (the
// `_service` guard reads x-router-secret): Yoga answers them every time.
const YOGA_ONLY_ROOT_FIELDS = [SERVICE_FIELD];

/** Bounded memory of what Yoga admitted: executed documents, and the JSON media type per Accept. */
export class Admissions {
  // Yoga's LRU (as its parse cache), bounded by count, with no expiry.
  private readonly documents = createLRUCache<Admitted>({ max: MAX_DOCUMENTS, ttl: 0 });
  private readonly mediaTypes = createLRUCache<string>({ max: MAX_ACCEPT_VALUES, ttl: 0 });

  documentFor(query: string, operationName: string | null | undefined): Admitted | undefined {
    return this.documents.get(documentKey(query, operationName));
  }

  mediaTypeFor(accept: string | undefined): string | undefined {
    return this.mediaTypes.get(accept ?? '');
  }

  /** The Yoga plugin that records admissions: a document when Yoga executes it, a media type when Yoga answers. */
  plugin(): Plugin {
    const executed = new WeakSet<Request>();
    return {
      onExecute: ({ args }) => {
        const { request, params } = args.contextValue as { request: Request; params: { query?: unknown; operationName?: unknown; extensions?: unknown } };
        executed.add(request);
        // A document that came by hash (extensions) was admitted as a persisted operation, not as text.
        if (params.extensions != null || typeof params.query !== 'string' || params.query.length > MAX_CACHED_DOCUMENT_LENGTH) return;
        const operationName = typeof params.operationName === 'string' ? params.operationName : null;
        const operation = getOperationAST(args.document, operationName);
        if (YOGA_ONLY_ROOT_FIELDS.some((field) => selectsRootField(args.document, operationName, field))) return;
        if (operation) this.documents.set(documentKey(params.query, operationName), { document: args.document, operation });
      },
      onResponse: ({ request, response }) => {
        if (!executed.has(request)) return;
        const match = /^(application\/(?:graphql-response\+)?json); charset=utf-8$/.exec(response.headers.get('content-type') ?? '');
        if (match) this.mediaTypes.set(request.headers.get('accept') ?? '', match[1]!);
      },
    };
  }
}

function documentKey(query: string, operationName: string | null | undefined): string {
  return (operationName ? `${operationName}\u0001` : '\u0000') + query;
}
