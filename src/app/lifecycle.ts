// Serving and draining. On SIGTERM the gateway stops accepting connections, reports not-ready,
// lets in-flight requests finish and their responses reach the clients, and only then (or when
// SHUTDOWN_DRAIN_MS runs out) closes what is left.

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { useReadinessCheck } from 'graphql-yoga';
import type { Plugin } from 'graphql-yoga';

export class Lifecycle {
  private draining = false;
  private readonly inFlight = new Set<ServerResponse>();

  get isDraining(): boolean {
    return this.draining;
  }

  /** GET /ready: 200 while serving, 503 while draining. Never touches the upstream. */
  readinessPlugin(): Plugin {
    return useReadinessCheck({ endpoint: '/ready', check: () => !this.draining });
  }

  /** Wraps the server's request handler to know which responses are still owed. */
  track(handler: (req: IncomingMessage, res: ServerResponse) => void) {
    return (req: IncomingMessage, res: ServerResponse): void => {
      this.inFlight.add(res);
      res.once('close', () => this.inFlight.delete(res));
      if (this.draining) res.setHeader('connection', 'close');
      handler(req, res);
    };
  }

  /**
   * Resolves once every connection is closed: true when in-flight responses were all sent,
   * false when drainMs ran out and the remaining connections were cut.
   */
  async drain(server: Server, drainMs: number): Promise<boolean> {
    this.draining = true;
    // A keep-alive connection closes after the response it is waiting for, not before.
    for (const res of this.inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    let cut = false;
    const deadline = setTimeout(() => {
      cut = true;
      server.closeAllConnections();
    }, drainMs);
    try {
      await closed;
    } finally {
      clearTimeout(deadline);
    }
    return !cut;
  }
}
