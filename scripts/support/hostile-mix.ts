// The hostile clients of the load test, each a loop bounded by a time (`until`, a Date.now()
// value) and by the ledger's capacity or a count: slow bodies, 1 MB junk, maximal HTTP batches
// (at the upstream-call budget and one above it), a noisy neighbour asking the largest
// allowed read over and over, anonymous amplification requests (issue 18), and clients that send
// one and never read the answer. Each counts how it was answered.

import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { amplificationRequest } from './amplification.js';
import { answerOf, refusalAnswer } from './award-ledger.js';
import type { AwardLedger } from './award-ledger.js';
import { nonReading, postHead, stall, statusOf } from './raw-http.js';

export type Counts = Map<string, number>;
export const bump = (counts: Counts, key: string, n = 1) => counts.set(key, (counts.get(key) ?? 0) + n);

export interface HostileMixSettings {
  /** Connections that declare `slowBodyBytes` and stall one byte short, reopened a second after being closed. */
  slowBodies: number;
  slowBodyBytes: number;
  /** Clients each sending invalid-JSON bodies of `junkBodyBytes`, one after the other. */
  junkClients: number;
  junkBodyBytes: number;
  /** MAX_UPSTREAM_CALLS_PER_REQUEST: the at-budget batch uses all of it, the other one call more. */
  upstreamCallBudget: number;
  /** Requests the noisy neighbour keeps in flight, each an _entities read of the whole budget. */
  noisyInFlight: number;
  /** Anonymous clients sending the amplification request, one at a time each. */
  amplifiers: number;
  /** Connections that send the amplification request and never read, held until the end. */
  nonReaders: number;
  token: string;
}

const BATCH_OPERATIONS = 5;
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };
const ADD_MANY = `mutation AddMany($items: [AddChallengeHistoryItemInput!]!) { addChallengeHistories(items: $items) {
  __typename ... on AddChallengeHistorySuccess { challengeHistory { id } } } }`;
const ENTITIES = 'query Entities($representations: [_Any!]!) { _entities(representations: $representations) { ... on Challenge { id } } }';

/** Runs every hostile client until `until`; resolves with what each was answered. */
export async function runHostileMix(
  url: URL,
  settings: HostileMixSettings,
  ledger: AwardLedger,
  until: number,
): Promise<Record<string, Counts>> {
  const pool = new Pool(url.origin, { connections: settings.junkClients + settings.noisyInFlight + settings.amplifiers + 2, pipelining: 1 });
  const counts: Record<string, Counts> = {
    'slow bodies': new Map(),
    '1 MB junk': new Map(),
    'maximal batches': new Map(),
    'noisy neighbour': new Map(),
    amplification: new Map(),
    'non-reading clients': new Map(),
  };
  const post = async (body: string | Buffer, { anonymous = false } = {}) => {
    const headers = anonymous ? JSON_HEADERS : { ...JSON_HEADERS, authorization: `Bearer ${settings.token}` };
    const res = await pool.request({ method: 'POST', path: url.pathname, headers, body });
    return { status: res.statusCode, body: (await res.body.json()) as any };
  };
  try {
    await Promise.all([
      slowBodies(url, settings, until, counts['slow bodies']!),
      junk(post, settings, until, counts['1 MB junk']!),
      maximalBatches(post, settings, ledger, until, counts['maximal batches']!),
      noisyNeighbour(post, settings, until, counts['noisy neighbour']!),
      amplification(post, settings, until, counts.amplification!),
      nonReaders(url, settings, until, counts['non-reading clients']!),
    ]);
  } finally {
    await pool.close();
  }
  return counts;
}

type Post = (body: string | Buffer, options?: { anonymous?: boolean }) => Promise<{ status: number; body: any }>;

const timeLeft = (until: number) => Math.max(0, until - Date.now());
const codeOfBody = (body: any): string => body?.errors?.[0]?.extensions?.code ?? 'no code';
/** Runs `attempt` (its errors counted as transport errors) until `until`. */
async function loop(until: number, counts: Counts, attempt: () => Promise<void>): Promise<void> {
  while (Date.now() < until) {
    try {
      await attempt();
    } catch (error) {
      bump(counts, `transport error: ${(error as Error).message}`);
    }
  }
}

async function slowBodies({ port, hostname }: URL, settings: HostileMixSettings, until: number, counts: Counts): Promise<void> {
  const target = new URL(`http://${hostname}:${port}`);
  await Promise.all(
    Array.from({ length: settings.slowBodies }, async (_, i) => {
      // Spread over the first second, and reopened after 1-2 s: a flood of simultaneous connects
      // would overflow the listen backlog (511), and SYN retransmits would delay every new
      // connection by seconds, a different attack from this one.
      await sleep(Math.min((i * 1_000) / settings.slowBodies, timeLeft(until)));
      while (Date.now() < until) {
        // Both entries: the fast lane's (/graphql) and Yoga's (/graphql?x).
        const exchange = stall(target, postHead(i % 2 ? '/graphql?x' : '/graphql', settings.slowBodyBytes), settings.slowBodyBytes - 1);
        bump(counts, 'opened');
        const closed = await Promise.race([exchange.closed, sleep(timeLeft(until)).then(() => undefined)]);
        if (closed === undefined) {
          bump(counts, 'still held at the end');
          exchange.socket.destroy();
          return;
        }
        const status = statusOf(closed.text);
        bump(counts, status === 0 ? 'closed unanswered' : `answered ${status}`);
        await sleep(Math.min(1_000 + Math.random() * 1_000, timeLeft(until)));
      }
    }),
  );
}

async function junk(post: Post, settings: HostileMixSettings, until: number, counts: Counts): Promise<void> {
  const body = Buffer.alloc(settings.junkBodyBytes, 'x');
  body[0] = 0x7b; // '{' and then no JSON at all
  await Promise.all(
    Array.from({ length: settings.junkClients }, () =>
      loop(until, counts, async () => {
        const res = await post(body);
        bump(counts, `${res.status} ${codeOfBody(res.body)}`);
      }),
    ),
  );
}

/**
 * Two loops side by side: HTTP batches of exactly the budget's calls, and HTTP batches of one call
 * more (refused whole before any call, so paced: one every 100 ms). Every item is an award.
 */
async function maximalBatches(post: Post, settings: HostileMixSettings, ledger: AwardLedger, until: number, counts: Counts): Promise<void> {
  const perOperation = Math.floor(settings.upstreamCallBudget / BATCH_OPERATIONS);
  const sizes = (extra: number) =>
    Array.from({ length: BATCH_OPERATIONS }, (_, i) => perOperation + (i === 0 ? settings.upstreamCallBudget - perOperation * BATCH_OPERATIONS + extra : 0));
  const batches = (extra: number, pauseMs: number) =>
    loop(until, counts, async () => {
      const label = extra === 0 ? `at budget (${settings.upstreamCallBudget} calls)` : `budget + ${extra} (${settings.upstreamCallBudget + extra} calls)`;
      const operations = sizes(extra).map((size) => Array.from({ length: size }, () => ledger.issue()));
      if (operations.some((awards) => awards.includes(undefined))) return void (await sleep(timeLeft(until)));
      const res = await post(
        JSON.stringify(
          operations.map((awards) => ({
            query: ADD_MANY,
            variables: { items: awards.map((a) => ({ ambassadorId: '7', input: { points: 1, score: 1, challengeId: '3', message: a!.message } })) },
          })),
        ),
      );
      // An admitted batch answers per operation; a refused one with one error for all.
      const results: any[] = Array.isArray(res.body) ? res.body : operations.map(() => res.body);
      let succeeded = 0;
      operations.forEach((awards, op) => {
        const { data, errors = [] } = results[op] ?? {};
        const itemErrors = new Map<number, any>(errors.filter((e: any) => e.path?.length === 2).map((e: any) => [e.path[1], e]));
        awards.forEach((a, i) => {
          const answer = refusalAnswer(res.status, res.body) ?? answerOf(data?.addChallengeHistories?.[i], itemErrors.get(i) ?? (data ? undefined : errors[0]));
          if (answer.kind === 'success') succeeded++;
          ledger.answer(a!.award, answer);
        });
      });
      bump(counts, `${label}: ${res.status} ${Array.isArray(res.body) ? 'answered per operation' : codeOfBody(res.body)}`);
      if (succeeded > 0) bump(counts, `${label}: item successes`, succeeded);
      await sleep(Math.min(pauseMs, timeLeft(until)));
    });
  await Promise.all([batches(0, 0), batches(1, 100)]);
}

/** One client keeping `noisyInFlight` reads of the whole budget (_entities) in flight. */
async function noisyNeighbour(post: Post, settings: HostileMixSettings, until: number, counts: Counts): Promise<void> {
  const representations = Array.from({ length: settings.upstreamCallBudget }, (_, i) => ({ __typename: 'Challenge', id: String(i + 1) }));
  const body = JSON.stringify({ query: ENTITIES, variables: { representations } });
  await Promise.all(
    Array.from({ length: settings.noisyInFlight }, () =>
      loop(until, counts, async () => {
        const res = await post(body);
        const read = res.body?.data?._entities?.filter((entity: any) => entity?.id).length ?? 0;
        bump(counts, read === settings.upstreamCallBudget ? `${res.status} all ${read} read` : `${res.status} ${read} read, ${codeOfBody(res.body)}`);
      }),
    ),
  );
}

/**
 * Anonymous amplification requests (500 refused items × 30 aliases of fieldErrors), one at a time
 * per client and at most one every AMPLIFIER_PERIOD_MS: the issue's attack (four clients, about 3
 * requests/s in all while each cost 0.4 s), measuring what one request costs rather than a flood
 * (the junk clients are one).
 */
const AMPLIFIER_PERIOD_MS = 250;
async function amplification(post: Post, settings: HostileMixSettings, until: number, counts: Counts): Promise<void> {
  const body = JSON.stringify(amplificationRequest());
  await Promise.all(
    Array.from({ length: settings.amplifiers }, () =>
      loop(until, counts, async () => {
        const started = Date.now();
        const res = await post(body, { anonymous: true });
        bump(counts, `${res.status} ${codeOfBody(res.body)}`);
        await sleep(Math.min(Math.max(0, AMPLIFIER_PERIOD_MS - (Date.now() - started)), timeLeft(until)));
      }),
    ),
  );
}

const KEEP_ALIVE_GRACE_MS = 7_000;

/**
 * Connections that send the amplification request and never read, opened at the start and held until the end and KEEP_ALIVE_GRACE_MS more; then read again, to count those the gateway
 * had already closed (RESPONSE_TIMEOUT_MS, or its keep-alive timeout once the answer left the process).
 */
async function nonReaders({ port, hostname }: URL, settings: HostileMixSettings, until: number, counts: Counts): Promise<void> {
  const target = new URL(`http://${hostname}:${port}`);
  const body = JSON.stringify(amplificationRequest());
  // All at once (fewer than the listen backlog, 511): the answers leave early in the phase.
  const exchanges = Array.from({ length: settings.nonReaders }, (_, i) => nonReading(target, i % 2 ? '/graphql?x' : '/graphql', body));
  bump(counts, 'opened', exchanges.length);
  // An answer may have left late on a loaded machine: the keep-alive timeout (5 s) and two seconds more.
  await sleep(timeLeft(until) + KEEP_ALIVE_GRACE_MS);
  const closedBefore = new Set<unknown>();
  for (const exchange of exchanges) {
    void exchange.closed.then(() => closedBefore.add(exchange));
    exchange.socket.resume();
  }
  await sleep(1_000);
  exchanges.forEach((exchange, i) => {
    bump(counts, closedBefore.has(exchange) ? 'closed by the gateway' : `still open 7 s after the end (${i % 2 ? "Yoga's path" : 'the fast lane'})`);
    exchange.socket.destroy();
  });
}
