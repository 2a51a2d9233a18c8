// `npm start`: reads the configuration, starts the sandbox upstream when no UPSTREAM_URL is
// set (never in production), then serves the gateway until SIGTERM/SIGINT.
// stdout carries only the JSON log lines; what this file says to a person goes to stderr.

// First: V8's heap settings apply before the other modules load.
import './app/heap-tuning.js';
import { ConfigError, loadConfig } from './app/config.js';
import { createLogger } from './telemetry/logging.js';
import { createGateway } from './app/gateway.js';
import { StartupError, checkUpstreamResolves, listenOrExplain, probeUpstream } from './app/startup.js';

async function main(): Promise<void> {
  let config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  if (config.upstreamUrl) {
    await checkUpstreamResolves(config.upstreamUrl);
    // A URL that resolves may still not be the API (the host without /api/v2 answers 404 to every
    // call): refused in production, one warning otherwise; an upstream down now is only a warning.
    const probe = await probeUpstream(config.upstreamUrl, config.upstreamTimeoutMs);
    if (probe.kind === 'not-api' && config.nodeEnv === 'production') throw new StartupError(probe.line);
    if (probe.kind !== 'api') logger.warn(probe.line);
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

  const gateway = createGateway(config, {
    logger,
    exampleToken,
    loopbackHostsOnly: exampleToken !== undefined,
    loopbackOrigins: exampleToken !== undefined,
  });
  const url = await listenOrExplain(gateway.listen, config);

  if (exampleToken) {
    console.error(
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
    const graphiql = config.graphiql.enabled ? ' (GraphiQL: open it in a browser)' : '';
    console.error(`GraphQL gateway listening on ${url.href}${graphiql}`);
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`${signal} received, shutting down`);
    // The log is written asynchronously: every line, up to the last request's, is out before exit.
    Promise.all([gateway.close(), closeSandbox()]).then(
      () => logger.flush().then(() => process.exit(0)),
      (error: unknown) => {
        console.error('shutdown failed', error instanceof Error ? error.message : error);
        return logger.flush().finally(() => process.exit(1));
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  // A deployment's mistake gets its message alone; anything else is a bug and keeps its stack.
  if (!(error instanceof ConfigError || error instanceof StartupError)) throw error;
  console.error(error.message);
  process.exit(1);
});
