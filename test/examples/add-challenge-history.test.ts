// Runs the example client as a reader would, against a gateway on the sandbox upstream.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { expect, test } from 'vitest';
import { SANDBOX_TOKENS, startSandboxUpstream } from '../../src/sandbox/index.js';
import { useGatewayOn } from '../support/gateway.js';

const EXAMPLE = new URL('../../examples/add-challenge-history.ts', import.meta.url).pathname;

const { upstream: sandbox, gw } = useGatewayOn(startSandboxUpstream);

async function runExample(args: string[], token: string = SANDBOX_TOKENS.manager): Promise<{ code: number; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', EXAMPLE, ...args], {
    env: { PATH: process.env.PATH ?? '', GATEWAY_URL: gw.url.href, GATEWAY_TOKEN: token },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  return { code, output };
}

test('records a history, reports a refusal, and reports an error code', async () => {
  const recorded = await runExample([]);
  expect(recorded.output).toMatch(/^Recorded challenge history \d+: 100 points for Ada Lovelace \(First sale\)\.$/m);
  expect(recorded.code).toBe(0);

  const notFound = await runExample(['999']);
  expect(notFound.output).toContain('Refused: Ambassador 999 does not exist.');
  expect(notFound.code).toBe(2);

  const invalid = await runExample(['1', '999']);
  expect(invalid.output).toContain('input.challengeId: The selected challenge id is invalid.');
  expect(invalid.code).toBe(2);

  const unauthenticated = await runExample([], 'wrong-token');
  expect(unauthenticated.output).toContain('Failed (UNAUTHENTICATED)');
  expect(unauthenticated.code).toBe(1);
});
