// What watches each GraphQL request — the facts it gathers, its span, its log line, its metrics,
// its request id — written once as RequestObservers and run from one list by both paths: Yoga's
// (useRequestObservers, plugins/request-telemetry.ts) and the fast lane's (lane/fast-lane.ts), its
// error path included. An observer only watches: it never changes what the request does.

import type { DocumentNode, ExecutionResult } from 'graphql';
import type { RequestTelemetry } from './request-telemetry.js';
import type { HeaderReader } from './tracing.js';

export interface RequestStart {
  method: string;
  headers: HeaderReader;
}

export interface RequestEnd {
  method: string;
  /** The path, without the query string. */
  path: string;
  status: number;
  /** Adds a header to the answer, which has not left yet. */
  setHeader(name: string, value: string): void;
}

export interface RequestObserver {
  /** The request arrived (its telemetry was just made). */
  onStart?(telemetry: RequestTelemetry, start: RequestStart): void;
  /** Its GraphQL parameters were read: the operation name as the client sent it. */
  onParams?(telemetry: RequestTelemetry, operationName: unknown): void;
  /** The operation is about to execute. */
  onOperation?(telemetry: RequestTelemetry, document: DocumentNode, operationName: string | null): void;
  /** The result of a single operation (masked), before it is written. */
  onResult?(telemetry: RequestTelemetry, result: ExecutionResult): void;
  /** The answer is made, just before it leaves. */
  onEnd?(telemetry: RequestTelemetry, end: RequestEnd): void;
}

type Hook = keyof RequestObserver;
const HOOKS: readonly Hook[] = ['onStart', 'onParams', 'onOperation', 'onResult', 'onEnd'];

/** One observer that runs each hook of the list's observers, in list order. */
export function runObservers(observers: readonly RequestObserver[]): Required<RequestObserver> {
  const run = {} as Record<Hook, (...args: never[]) => void>;
  for (const hook of HOOKS) {
    const calls = observers.flatMap((observer) => {
      const call = observer[hook] as ((...args: never[]) => void) | undefined;
      return call ? [call.bind(observer)] : [];
    });
    // Every hook takes at most three arguments: passed as such, no array per call.
    run[hook] = (a?: never, b?: never, c?: never) => {
      for (const call of calls) call(a!, b!, c!);
    };
  }
  return run as Required<RequestObserver>;
}
