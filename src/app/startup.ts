// Start-up failures a deployment can cause, each turned into one line that says what to fix
// (main.ts prints it and exits 1), instead of a stack trace.

import { lookup } from 'node:dns/promises';
import { request } from 'undici';
import { transportCause } from '../upstream/errors.js';

export class StartupError extends Error {
  override name = 'StartupError';
}

const DNS_TIMEOUT_MS = 5_000;

/** Fails when UPSTREAM_URL's host name does not resolve, which no request could then reach. */
export async function checkUpstreamResolves(upstreamUrl: URL): Promise<void> {
  const host = upstreamUrl.hostname.replace(/^\[(.*)\]$/, '$1');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { code: `no answer in ${DNS_TIMEOUT_MS / 1000} s` })), DNS_TIMEOUT_MS);
  });
  try {
    await Promise.race([lookup(host), timeout]);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new StartupError(`UPSTREAM_URL host "${host}" cannot be resolved (${code}): check the name and this machine's DNS.`);
  } finally {
    clearTimeout(timer);
  }
}

// listen() error code -> what to do about it.
const LISTEN_ADVICE: Record<string, string> = {
  EADDRINUSE: 'the port is already in use; stop the other process or set another PORT',
  EACCES: 'permission denied; use a PORT above 1023',
  EADDRNOTAVAIL: 'HOST is not an address of this machine',
  ENOTFOUND: 'HOST is not a known host name',
};

/** Calls listen(), turning the errors a deployment can cause into a StartupError. */
export async function listenOrExplain(listen: () => Promise<URL>, where: { host: string; port: number }): Promise<URL> {
  try {
    return await listen();
  } catch (error) {
    if (error instanceof StartupError) throw error; // a check listen() runs first (the store's fitness) says its own line
    const code = (error as NodeJS.ErrnoException).code;
    const advice = (code && LISTEN_ADVICE[code]) ?? (error as Error).message;
    throw new StartupError(`Cannot listen on ${where.host}:${where.port}: ${advice}${code ? ` (${code})` : ''}.`);
  }
}

/** The route the start-up probe reads: it exists behind authentication, so the API answers 401 JSON without a token. */
export const PROBE_ROUTE = '/manager/challenges/1';
/** Sent with the probe so a log (or a test upstream) can tell it from a caller's call; it carries no token. */
export const PROBE_USER_AGENT = 'challenge-gateway-startup-probe';
const PROBE_MAX_BODY_BYTES = 64 * 1024;
const PROBE_MAX_TIMEOUT_MS = 5_000;

export type ProbeResult =
  /** 401 with a JSON body: the API, as documented. */
  | { kind: 'api' }
  /** 404, or a non-JSON answer below 500: UPSTREAM_URL points at something else (often the host without /api/v2). */
  | { kind: 'not-api'; line: string }
  /** No answer, a 5xx, or an unexpected JSON answer: worth a warning, not a refusal to start. */
  | { kind: 'doubtful'; line: string };

/**
 * One GET of PROBE_ROUTE without a token. It never follows a redirect (a 3xx is "not the API")
 * and reads at most 64 KiB of the answer, within min(UPSTREAM_TIMEOUT_MS, 5 s).
 */
export async function probeUpstream(upstreamUrl: URL, timeoutMs: number): Promise<ProbeResult> {
  const url = `${upstreamUrl.href.replace(/\/+$/, '')}${PROBE_ROUTE}`;
  const signal = AbortSignal.timeout(Math.min(timeoutMs, PROBE_MAX_TIMEOUT_MS));
  let status: number;
  let text: string;
  try {
    const response = await request(url, { method: 'GET', headers: { accept: 'application/json', 'user-agent': PROBE_USER_AGENT }, signal });
    status = response.statusCode;
    text = await readBounded(response.body);
  } catch (error) {
    const cause = signal.aborted ? 'timeout' : transportCause(error);
    return { kind: 'doubtful', line: `UPSTREAM_URL could not be probed: GET ${url} got no answer (${cause}); starting anyway` };
  }
  const isJson = parsesAsJson(text);
  if (status === 401 && isJson) return { kind: 'api' };
  if (status === 404) return { kind: 'not-api', line: `UPSTREAM_URL does not point at the API: GET ${url} answered 404` };
  if (status < 500 && !isJson) {
    return { kind: 'not-api', line: `UPSTREAM_URL does not point at the API: GET ${url} answered ${status} with a non-JSON body` };
  }
  return { kind: 'doubtful', line: `UPSTREAM_URL probe: GET ${url} without a token answered ${status}, not the API's 401; starting anyway` };
}

async function readBounded(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= PROBE_MAX_BODY_BYTES) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parsesAsJson(text: string): boolean {
  if (text.trim() === '') return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
