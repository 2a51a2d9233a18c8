// The lane's executor A/B, in one process: the documents the fast lane serves in the bench (the
// full and small award), each executed against the gateway's schema and a real per-request
// context (a real UpstreamClient to the bench's upstream process) by (A) today's lane executor
// (src/lane/executor.ts) and (B) graphql-jit, compiled once per document, its answer kept when
// it has no errors, any other answer replayed through graphql-js. Same warm-up, rounds
// alternating A and B, CPU from process.cpuUsage (this process: execution, the upstream client,
// the answer's decoding; both variants pay the same upstream work, so the difference per
// operation is the executors' own). Then the same once more with execution alone: the root
// field's resolver answers the value it awaited the first time (no upstream call; the fields
// below it only read that value). Both must give the same JSON before anything is measured.
//
//   BENCH_ONLY=executors npm run bench      (or as part of the full run; BENCH_SKIP_EXECUTORS=1 leaves it out)

import { GraphQLObjectType, GraphQLSchema, execute, getVariableValues, parse } from 'graphql';
import type { DocumentNode, ExecutionResult, GraphQLFieldResolver, OperationDefinitionNode } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import { loadConfig } from '../src/app/config.js';
import { createSharedState } from '../src/app/shared-state.js';
import { laneExecutor } from '../src/lane/executor.js';
import { createLogger } from '../src/telemetry/logging.js';
import { createContext } from '../src/schema/context.js';
import { subgraphSchema } from '../src/schema/index.js';
import { RequestTelemetry } from '../src/telemetry/request-telemetry.js';
import { UpstreamClient } from '../src/upstream/client.js';
import { BENCH_BODIES, TOKEN } from './shared.js';

export interface ExecutorFigures {
  ops: number;
  opsPerSecond: number;
  cpuMicrosPerOp: number;
}

export interface ExecutorsRow {
  document: string;
  /** Whether the root resolver called the upstream (false: it answered a value kept from its first call). */
  upstream: boolean;
  lane: ExecutorFigures;
  jit: ExecutorFigures;
  /** jit's CPU per operation over the lane executor's. */
  cpuRatio: number;
  /** jit's CPU per operation minus the lane executor's, in µs. */
  cpuDeltaMicros: number;
  /** jit answers that had errors and were replayed through graphql-js (0 on the clean case). */
  jitReplays: number;
}

export interface ExecutorsResult {
  rounds: number;
  opsPerRound: number;
  concurrency: number;
  rows: ExecutorsRow[];
}

type Run = (contextValue: unknown) => Promise<ExecutionResult>;

/** Runs the A/B against the bench upstream at `upstreamUrl` (its /api/v2 base). */
export async function laneExecutorsBench(upstreamUrl: string, { rounds, opsPerRound, concurrency }: { rounds: number; opsPerRound: number; concurrency: number }): Promise<ExecutorsResult> {
  const config = loadConfig({ UPSTREAM_URL: upstreamUrl });
  const logger = createLogger({ write: () => {} });
  const shared = createSharedState(config, { logger, onStoreUnavailable: () => {}, onStoreReset: () => {} });
  const upstream = new UpstreamClient({
    baseUrl: config.upstreamUrl!,
    timeoutMs: config.upstreamTimeoutMs,
    maxResponseBytes: config.upstreamMaxResponseBytes,
    connections: config.upstreamConnections,
    queueTimeoutMs: config.upstreamQueueTimeoutMs,
  });
  // What the lane's handler does per request before execution: a telemetry and a context of its own.
  const contextValue = () => {
    const telemetry = new RequestTelemetry(new Headers({ authorization: `Bearer ${TOKEN}` }));
    return createContext({ token: TOKEN, upstream, config, telemetry, idempotency: shared.idempotency });
  };
  const rows: ExecutorsRow[] = [];
  try {
    await shared.ready;
    const rootKept = keptRootOutcomes(subgraphSchema);
    const cases = Object.entries(BENCH_BODIES).flatMap(([name, body]) => [
      { name, body, schema: subgraphSchema, upstream: true },
      { name, body, schema: rootKept, upstream: false },
    ]);
    for (const { name, body, schema, upstream: callsUpstream } of cases) {
      const { query, variables, operationName } = JSON.parse(body) as { query: string; variables: Record<string, unknown>; operationName: string };
      const document = parse(query);
      const { lane, jit, replays } = variants(schema, document, operationName, variables);
      // The same answer from both, or the comparison means nothing.
      const [a, b] = [await lane(contextValue()), await jit(contextValue())];
      if (a.errors || JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`${name}: the executors answer differently:\n${JSON.stringify(a)}\n${JSON.stringify(b)}`);
      await measure(lane, contextValue, opsPerRound, concurrency); // warm-up, the same for both
      await measure(jit, contextValue, opsPerRound, concurrency);
      const totals = { lane: { ops: 0, micros: 0, ms: 0 }, jit: { ops: 0, micros: 0, ms: 0 } };
      for (let round = 0; round < rounds; round++) {
        // Alternate which goes first, so drift on a shared machine hits both alike.
        const order = round % 2 === 0 ? (['lane', 'jit'] as const) : (['jit', 'lane'] as const);
        for (const variant of order) {
          const { micros, ms } = await measure(variant === 'lane' ? lane : jit, contextValue, opsPerRound, concurrency);
          totals[variant].ops += opsPerRound;
          totals[variant].micros += micros;
          totals[variant].ms += ms;
        }
      }
      const figures = (t: { ops: number; micros: number; ms: number }): ExecutorFigures => ({
        ops: t.ops,
        opsPerSecond: Math.round((t.ops * 1000) / t.ms),
        cpuMicrosPerOp: Math.round(t.micros / t.ops),
      });
      const [laneFigures, jitFigures] = [figures(totals.lane), figures(totals.jit)];
      rows.push({
        document: name,
        upstream: callsUpstream,
        lane: laneFigures,
        jit: jitFigures,
        cpuRatio: Math.round((totals.jit.micros / totals.lane.micros) * 100) / 100,
        cpuDeltaMicros: Math.round((totals.jit.micros - totals.lane.micros) / totals.lane.ops),
        jitReplays: replays(),
      });
    }
  } finally {
    await upstream.close();
    await shared.close();
  }
  return { rounds, opsPerRound, concurrency, rows };
}

/** (A) the lane's executor; (B) graphql-jit compiled once, graphql-js for any answer with errors. */
function variants(schema: GraphQLSchema, document: DocumentNode, operationName: string, variables: Record<string, unknown>) {
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition' && d.name?.value === operationName)!;
  const executor = laneExecutor(schema);
  if (!executor.covers(document, operationName)) throw new Error(`the lane's executor does not plan ${operationName}`);
  const compiled = compileQuery(schema, document, operationName);
  if (!isCompiledQuery(compiled)) throw new Error(`graphql-jit does not compile ${operationName}: ${JSON.stringify(compiled.errors)}`);
  let replays = 0;
  // As the lane's handler: variables coerced and checked before anything runs (for both).
  const coerce = () => {
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables);
    if (coerced.errors) throw coerced.errors[0];
    return coerced.coerced;
  };
  const lane: Run = async (contextValue) => executor.execute({ document, operationName, contextValue, raw: variables, coerced: coerce() });
  const jit: Run = async (contextValue) => {
    coerce();
    const result = await compiled.query(undefined, contextValue, variables);
    if (!result.errors) return result;
    // A lane built on jit would replay the root outcome (never a second upstream call); on the clean case this never runs.
    replays++;
    return execute({ schema, document, operationName, variableValues: variables, contextValue });
  };
  return { lane, jit, replays: () => replays };
}

/** The schema with each mutation root field answering what its resolver gave the first time (execution alone). */
function keptRootOutcomes(schema: GraphQLSchema): GraphQLSchema {
  const config = schema.toConfig();
  const mutation = config.mutation!.toConfig();
  const keep = (resolve: GraphQLFieldResolver<unknown, unknown> | undefined): GraphQLFieldResolver<unknown, unknown> => {
    let kept: unknown;
    return async (source, args, contextValue, info) => (kept ??= await resolve!(source, args, contextValue, info));
  };
  const fields = Object.fromEntries(Object.entries(mutation.fields).map(([name, field]) => [name, { ...field, resolve: keep(field.resolve) }]));
  const kept = new GraphQLObjectType({ ...mutation, fields });
  return new GraphQLSchema({ ...config, mutation: kept, types: config.types.map((type) => (type === config.mutation ? kept : type)) });
}

/** `ops` operations, `concurrency` at a time; this process's CPU and the wall time they took. */
async function measure(run: Run, contextValue: () => unknown, ops: number, concurrency: number): Promise<{ micros: number; ms: number }> {
  let started = 0;
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < ops) {
        started++;
        const result = await run(contextValue());
        if (result.errors) throw new Error(`an operation failed: ${JSON.stringify(result.errors)}`);
      }
    }),
  );
  const ms = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  return { micros: used.user + used.system, ms };
}

export function printExecutorsTable(result: ExecutorsResult): void {
  console.log(
    `\nlane executor A/B (one process, ${result.rounds} rounds x ${result.opsPerRound} operations per variant and document, ${result.concurrency} at a time, alternating; upstream on loopback)`,
  );
  console.log('| document | root resolver | (A) lane executor ops/s | (A) CPU µs/op | (B) graphql-jit ops/s | (B) CPU µs/op | CPU B / A | B - A µs/op | jit replays |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of result.rows) {
    console.log(`| ${r.document} | ${r.upstream ? 'calls the upstream' : 'kept value'} | ${r.lane.opsPerSecond} | ${r.lane.cpuMicrosPerOp} | ${r.jit.opsPerSecond} | ${r.jit.cpuMicrosPerOp} | ${r.cpuRatio} | ${r.cpuDeltaMicros} | ${r.jitReplays} |`);
  }
}
