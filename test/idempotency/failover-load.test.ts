// A short `MODE=keyed REDIS_TOPOLOGY=sentinel npm run load-test`, once: two gateways, retrying
// keyed clients, a master + 2 replicas + 3 sentinels, the master SIGKILLed mid-run. It must pass:
// no key creates two records, and keyed awards are served again within 10 s of the promotion.

import { spawn } from 'node:child_process';
import { expect, test } from 'vitest';
import { minReplicasSupported } from '../../scripts/support/load-topology.js';
import { redisAvailable } from './keyed.js';

const ROOT = new URL('../../', import.meta.url);
// Without REDIS_MIN_REPLICAS a claim the killed master acknowledged but had not replicated is lost,
// and its retry awards again (the failover's known loss, docs/operations.md): the run would fail by design.
const runnable = redisAvailable && minReplicasSupported();
if (redisAvailable && !runnable) console.warn('REDIS_MIN_REPLICAS is not read by this build: the Sentinel failover load run is skipped');

test.skipIf(!runnable)('the keyed load test on Sentinel, master killed mid-run: PASS, no double record, served again within 10 s', async () => {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', 'scripts/load-test.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', MODE: 'keyed', REDIS_TOPOLOGY: 'sentinel', CONCURRENCY: '10', DURATION_S: '5' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  console.log(output);
  expect(output).toMatch(/double records \(keys that created two records\): 0;/);
  expect(output).toMatch(/master \d+ killed, \d+ promoted in [\d.]+ s: \d+ keyed awards refused over [\d.]+ s; every instance served a keyed award sent after the kill -?[\d.]+ s after the promotion was announced/);
  expect(output).toMatch(/^PASS$/m);
  expect(code).toBe(0);
}, 120_000);
