// The image the Dockerfile describes, built without Docker (CI has no container runtime): each
// stage is a scratch directory standing for its WORKDIR; COPY copies from the repository or from an
// earlier stage, RUN runs as written (npm with its warm cache preferred: offline-friendly), then the
// last stage's CMD runs with the ENV it declares against the sandbox upstream, and must be ready.
// Only HOST (loopback, as every test) and PORT (a free one) are set beside the declared ENV.
// The slow test of the suite (two `npm ci` and a build, about a minute): it runs once.

import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { SANDBOX_TOKENS, startSandboxUpstream } from '../../src/sandbox/index.js';
import type { SandboxUpstream } from '../../src/sandbox/index.js';
import { envOf, execForm, instruction, readDockerfile } from '../support/dockerfile.js';
import type { DockerStage } from '../support/dockerfile.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const stages = readDockerfile(join(ROOT, 'Dockerfile'));
const image = stages.at(-1)!;
const scratch = mkdtempSync(join(tmpdir(), 'gateway-image-'));
const stageDir = (name: string) => join(scratch, name);
/** What each RUN printed, by stage. */
const printed = new Map<string, string>();

/** A COPY: `[--from=stage] [--chown=…] <source>… <destination>`, sources relative to the repository or to the stage. */
function copy(stage: DockerStage, args: string): void {
  const words = args.split(/\s+/);
  const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
  const [destination, ...sources] = words.filter((word) => !word.startsWith('--')).reverse();
  const workdir = instruction(stage, 'WORKDIR')?.args ?? '/';
  const target = join(stageDir(stage.name), destination!);
  for (const source of sources.reverse()) {
    const origin = from === undefined ? join(ROOT, source) : join(stageDir(from), source.startsWith(workdir) ? source.slice(workdir.length) : source);
    if (!existsSync(origin)) throw new Error(`COPY ${args}: ${origin} does not exist`);
    // A destination ending in "/" (or several sources) is a directory the source goes into.
    const into = destination!.endsWith('/') || sources.length > 1 ? join(target, source.split('/').filter(Boolean).at(-1)!) : target;
    mkdirSync(dirname(into), { recursive: true });
    // From a stage, a move: the same files, without copying a node_modules on a slow disk (no later COPY reads them).
    if (from === undefined) cpSync(origin, into, { recursive: true });
    else renameSync(origin, into);
  }
}

async function build(stage: DockerStage): Promise<void> {
  mkdirSync(stageDir(stage.name), { recursive: true });
  const output: string[] = [];
  for (const { keyword, args } of stage.instructions) {
    if (keyword === 'COPY') copy(stage, args);
    if (keyword === 'RUN') {
      const { stdout, stderr } = await promisify(execFile)('/bin/sh', ['-c', args], {
        cwd: stageDir(stage.name),
        env: { PATH: process.env.PATH, HOME: process.env.HOME, npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' },
        timeout: 240_000,
        maxBuffer: 16 * 1024 * 1024,
      });
      output.push(stdout, stderr);
    }
  }
  printed.set(stage.name, output.join(''));
}

let sandbox: SandboxUpstream;
let gateway: ReturnType<typeof spawn> | undefined;
let url: URL;
const logs: string[] = [];

beforeAll(async () => {
  for (const stage of stages) await build(stage);
  sandbox = await startSandboxUpstream();
  const [command, ...args] = execForm(instruction(image, 'CMD')!.args);
  expect(command).toBe('node');
  gateway = spawn(process.execPath, args, {
    cwd: stageDir(image.name),
    env: { ...envOf(image), UPSTREAM_URL: sandbox.url.href, HOST: '127.0.0.1', PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  gateway.stdout!.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')));
  url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the image's CMD did not start:\n${logs.join('')}`)), 30_000);
    gateway!.stderr!.on('data', (chunk: Buffer) => {
      logs.push(chunk.toString('utf8'));
      const match = /listening on (http:\/\/\S+)/.exec(chunk.toString('utf8'));
      if (match) {
        clearTimeout(timer);
        resolve(new URL(match[1]!));
      }
    });
    gateway!.once('exit', (code) => reject(new Error(`the image's CMD exited (${code}):\n${logs.join('')}`)));
  });
}, 600_000);

afterAll(async () => {
  if (gateway && gateway.exitCode === null) {
    const exited = new Promise((resolve) => gateway!.once('exit', resolve));
    gateway.kill('SIGTERM');
    await exited;
  }
  await sandbox?.close();
  // Hundreds of MB of node_modules: removed in the background, not on the suite's time.
  spawn('rm', ['-rf', scratch], { detached: true, stdio: 'ignore' }).unref();
});

test("the image's CMD, with its ENV, is ready against the sandbox and answers an award", async () => {
  expect((await fetch(new URL('/ready', url))).status).toBe(200);
  expect((await fetch(new URL('/health', url))).status).toBe(200);
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${SANDBOX_TOKENS.manager}` },
    body: JSON.stringify({ query: 'mutation { addChallengeHistory(ambassadorId: "1", input: { points: 1, score: 1 }) { __typename } }' }),
  });
  expect(await response.json()).toEqual({ data: { addChallengeHistory: { __typename: 'AddChallengeHistorySuccess' } } });
  // NODE_ENV=production from the ENV: introspection is off.
  const introspection = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __schema { queryType { name } } }"}' });
  expect(JSON.stringify(await introspection.json())).toMatch(/introspection/i);
});

test('its HEALTHCHECK passes against the running gateway, and fails when nothing listens', async () => {
  const [command, ...args] = execForm(instruction(image, 'HEALTHCHECK')!.args);
  expect(command).toBe('node');
  const check = (port: string) => promisify(execFile)(process.execPath, args, { env: { PORT: port }, timeout: 10_000 });
  await expect(check(url.port)).resolves.toBeDefined();
  await expect(check('1')).rejects.toThrow();
});

test('the image holds production dependencies only, installed without any npm warning', () => {
  const modules = join(stageDir(image.name), 'node_modules');
  expect(existsSync(join(modules, 'graphql-yoga'))).toBe(true);
  for (const dev of ['typescript', 'vitest', 'esbuild', 'playwright-core']) expect(existsSync(join(modules, dev)), dev).toBe(false);
  const all = [...printed.values()].join('\n');
  expect(all).not.toMatch(/npm warn/i);
  expect(all).not.toMatch(/ERESOLVE/);
});
