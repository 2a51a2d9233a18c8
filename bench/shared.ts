// What every bench target is asked, and the process facts read about each server.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { Client } from 'undici';

export const TOKEN = 'bench-token';
export const AMBASSADOR_ID = 7;

/** The one document targets (b)-(d) serve: every field, the nested ambassador, the three i18n lists. */
export const DOCUMENT = /* GraphQL */ `mutation Add($ambassadorId: ID!, $input: AddChallengeHistoryInput!) {
  addChallengeHistory(ambassadorId: $ambassadorId, input: $input) {
    __typename
    ... on AddChallengeHistorySuccess {
      challengeHistory {
        id message score points createdAt updatedAt
        ambassador {
          id image fullName username description status availability unavailable isAbsent absentMsg
          fbAccount twitterAccount instagramAccount linkedInAccount youtubeAccount online lastActionDate
        }
        challenge {
          id points proportionalPoints nbWins
          titles { id lang langCode content }
          images { id lang langCode content }
          descriptions { id lang langCode content }
        }
      }
    }
    ... on Error { message }
  }
}`;

export const VARIABLES = {
  ambassadorId: String(AMBASSADOR_ID),
  input: { points: 42, score: 12.5, message: 'well done', challengeId: '3' },
};

export const GRAPHQL_BODY = JSON.stringify({ query: DOCUMENT, variables: VARIABLES, operationName: 'Add' });

/** The small selection a UI sends after an award: where per-request overhead shows best. */
export const SMALL_DOCUMENT = /* GraphQL */ `mutation AddSmall($ambassadorId: ID!, $input: AddChallengeHistoryInput!) {
  addChallengeHistory(ambassadorId: $ambassadorId, input: $input) {
    __typename
    ... on AddChallengeHistorySuccess { challengeHistory { id points } }
    ... on Error { message }
  }
}`;

export const GRAPHQL_SMALL_BODY = JSON.stringify({ query: SMALL_DOCUMENT, variables: VARIABLES, operationName: 'AddSmall' });

/** The bench documents by name, as the table's rows call them. */
export const BENCH_BODIES = { full: GRAPHQL_BODY, small: GRAPHQL_SMALL_BODY } as const;
/** What the upstream receives from every target, and what target (a) sends it directly. */
export const UPSTREAM_BODY = JSON.stringify({ points: 42, score: 12.5, message: 'well done', challenge_id: 3 });
export const UPSTREAM_PATH = (ambassadorId: number | string) => `/api/v2/manager/ambassadors/${ambassadorId}/challenge-histories`;

export const GRAPHQL_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/graphql-response+json, application/json',
  authorization: `Bearer ${TOKEN}`,
};

/** A port the kernel just handed out on loopback (closed again for the server to take). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const CLOCK_TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

/** user + sys CPU time of a process so far, in microseconds (/proc/PID/stat fields 14 and 15). */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime: fields 14, 15 of the whole line
  return (ticks * 1_000_000) / CLOCK_TICKS_PER_SECOND;
}

/** Peak resident set size of a process, in MiB (/proc/PID/status VmHWM). */
export function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? NaN);
  return kib / 1024;
}

/**
 * `connections` loops of sequential POSTs (one undici Client each) until `count` are sent or
 * `maxMs` has passed; answers how many were 200 and held `expect`.
 */
export async function driveSequential(
  url: string,
  { body, expect, count, connections, maxMs }: { body: () => string; expect: string; count: number; connections: number; maxMs: number },
): Promise<number> {
  const target = new URL(url);
  const deadline = performance.now() + maxMs;
  let sent = 0;
  let ok = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      const client = new Client(target.origin, { pipelining: 1 });
      try {
        while (sent < count && performance.now() < deadline) {
          sent++;
          const response = await client.request({ method: 'POST', path: target.pathname, headers: GRAPHQL_HEADERS, body: body() });
          const text = await response.body.text();
          if (response.statusCode === 200 && text.includes(expect)) ok++;
        }
      } finally {
        await client.close();
      }
    }),
  );
  return ok;
}
