// `npm start`: reads the configuration, starts the sandbox upstream when no UPSTREAM_URL is
// set (never in production), then serves the gateway until SIGTERM/SIGINT.

import { ConfigError, loadConfig } from './config.js';
import type { GatewayConfig } from './config.js';
import { createLogger } from './logging.js';
import { createGateway } from './server.js';

async function main(): Promise<void> {
  let config: GatewayConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }

  let exampleToken: string | undefined;
  let forbiddenToken: string | undefined;
  let closeSandbox = async () => {};
  if (!config.upstreamUrl) {
    // Imported only here: production code paths never load the sandbox.
    const { startSandboxUpstream, SANDBOX_TOKENS } = await import('./sandbox/index.js');
    const sandbox = await startSandboxUpstream();
    config = { ...config, upstreamUrl: sandbox.url };
    exampleToken = SANDBOX_TOKENS.manager;
    forbiddenToken = SANDBOX_TOKENS.forbidden;
    closeSandbox = sandbox.close;
  }

  const gateway = createGateway(config, { logger: createLogger({ level: config.logLevel }), exampleToken, loopbackHostsOnly: exampleToken !== undefined });
  const url = await gateway.listen();

  if (exampleToken) {
    console.log(
      [
        '',
        '  SANDBOX MODE: no UPSTREAM_URL is set, so the gateway talks to an in-memory sandbox upstream.',
        '  Nothing you do here reaches a real API; data resets when the process stops.',
        '',
        `  GraphiQL:        ${url.href}   (open it in a browser; the example mutation is ready)`,
        `  Token to paste:  Authorization: Bearer ${exampleToken}`,
        `  Forbidden token: Bearer ${forbiddenToken} (403); any other token gets 401.`,
        '  Ambassadors 1-3 and challenges 1-3 exist; other ids answer 404 / 422.',
        '',
      ].join('\n'),
    );
  } else {
    console.log(`GraphQL gateway listening on ${url.href}`);
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received, shutting down`);
    Promise.all([gateway.close(), closeSandbox()]).then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('shutdown failed', error instanceof Error ? error.message : error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

void main();
