// Start-up failures a deployment can cause, each turned into one line that says what to fix
// (main.ts prints it and exits 1), instead of a stack trace.

import { lookup } from 'node:dns/promises';

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
