// Keeps the README's examples true: every `curl` example marked `<!-- readme-example: NAME -->`
// (a ```sh block, then the ```json or ```text block of what it prints) runs with the real curl
// against the sandbox upstream behind a gateway on a free loopback port, in README order, and
// its output must be what the README shows, values that differ between runs masked.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { startSandboxUpstream } from '../../src/sandbox/index.js';
import { variablesReadByConfig } from '../support/config-variables.js';
import { useGatewayOn } from '../support/gateway.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const CURL = '/usr/bin/curl';
const README_ORIGIN = 'http://127.0.0.1:4000';
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

interface ReadmeExample {
  name: string;
  command: string;
  language: 'json' | 'text';
  output: string;
}

const EXAMPLE = /<!-- readme-example: ([\w-]+) -->\n```sh\n([\s\S]*?)\n```\n```(json|text)\n([\s\S]*?)\n```/g;

function readmeExamples(markdown: string): ReadmeExample[] {
  return [...markdown.matchAll(EXAMPLE)].map(([, name, command, language, output]) => ({
    name: name!,
    command: command!,
    language: language as ReadmeExample['language'],
    output: output!,
  }));
}

// Values that depend on what the sandbox recorded before, or on the clock.
const VOLATILE_KEYS = new Set(['createdAt', 'updatedAt', 'nbWins']);

/** The JSON with volatile values replaced: times, counts, and the ids of recorded histories. */
function maskJson(value: unknown, key = ''): unknown {
  if (VOLATILE_KEYS.has(key)) return '<masked>';
  if (Array.isArray(value)) return value.map((item) => maskJson(item));
  if (value === null || typeof value !== 'object') return value;
  const masked = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskJson(v, k)]));
  if (key === 'challengeHistory' && 'id' in masked) masked.id = '<masked>';
  return masked;
}

/** What the comparison sees of an output: masked JSON, or the exact lines (the metrics' values included). */
function comparable(example: Pick<ReadmeExample, 'command' | 'language'>, output: string): unknown {
  if (example.language === 'json') return maskJson(JSON.parse(output));
  return output.trimEnd().split('\n');
}

function run(command: string, origin: string): Promise<string> {
  if (!command.startsWith('curl ')) throw new Error(`a README example must start with "curl ": ${command}`);
  if (!command.includes(README_ORIGIN)) throw new Error(`a README example must call ${README_ORIGIN}: ${command}`);
  const local = CURL + command.slice('curl'.length).replaceAll(README_ORIGIN, origin);
  return promisify(execFile)('/bin/sh', ['-c', local], { timeout: 15_000 }).then(({ stdout }) => stdout);
}

const examples = readmeExamples(README);

test('the README marks its examples: the mutation, a keyed one and its replay, both typed errors, a coded error, the batch, challenge, the probes, /metrics', () => {
  expect(examples.map((example) => example.name)).toEqual([
    'mutation',
    'keyed',
    'keyed-replay',
    'ambassador-not-found',
    'validation-error',
    'unauthenticated',
    'batch',
    'challenge',
    'probes',
    'metrics',
  ]);
  // Every `curl` shown in the README is one of the checked examples.
  const curlBlocks = [...README.matchAll(/```sh\n(curl [\s\S]*?)\n```/g)].map(([, command]) => command);
  expect(curlBlocks).toEqual(examples.map((example) => example.command));
});

test('the comparison notices a drifted output', () => {
  const [mutation] = examples;
  const shown = JSON.parse(mutation!.output) as { data: { addChallengeHistory: { challengeHistory: { points: number } } } };
  const drifted = structuredClone(shown);
  drifted.data.addChallengeHistory.challengeHistory.points += 1;
  expect(comparable(mutation!, JSON.stringify(drifted))).not.toEqual(comparable(mutation!, mutation!.output));
  // Masked values may differ: another id and time are the same answer.
  const later = structuredClone(shown) as unknown as { data: { addChallengeHistory: { challengeHistory: Record<string, unknown> } } };
  Object.assign(later.data.addChallengeHistory.challengeHistory, { id: '77', createdAt: '2030-01-01T00:00:00.000Z' });
  expect(comparable(mutation!, JSON.stringify(later))).toEqual(comparable(mutation!, mutation!.output));
  // The metrics example prints exactly what the README shows: a line more, or another count, differs.
  const metrics = examples.find((example) => example.name === 'metrics')!;
  expect(comparable(metrics, `${metrics.output}\ngateway_other_total 1\n`)).not.toEqual(comparable(metrics, metrics.output));
  expect(comparable(metrics, metrics.output.replace(/ (\d+)$/m, (_, n: string) => ` ${Number(n) + 1}`))).not.toEqual(comparable(metrics, metrics.output));
});

test('the README is at most 250 lines', () => {
  expect(README.split('\n').length - 1).toBeLessThanOrEqual(250);
});

/** The variables named in the first column of the table under docs/operations.md's "## Configuration". */
function variablesInConfigurationTable(markdown: string): string[] {
  const section = /^## Configuration\n([\s\S]*?)(?=^## )/m.exec(markdown)?.[1] ?? '';
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) => [...line.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map(([, name]) => name!));
}

test('docs/operations.md\'s configuration table lists every variable src/app/config.ts reads, and no other', () => {
  const read = variablesReadByConfig();
  // The extraction itself works: a known variable of each kind of read is found.
  expect(read).toEqual(expect.arrayContaining(['UPSTREAM_URL', 'PORT', 'GRAPHIQL', 'REDIS_URL', 'ROUTER_SHARED_SECRET', 'MAX_UPSTREAM_CALLS_PER_REQUEST']));
  const listed = variablesInConfigurationTable(readFileSync(join(ROOT, 'docs/operations.md'), 'utf8'));
  expect(read.filter((name) => !listed.includes(name))).toEqual([]);
  expect(listed.filter((name) => !read.includes(name))).toEqual([]);
});

/** GitHub's anchor for a heading: lowercase, punctuation dropped, spaces as hyphens. */
function anchorOf(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[`*]/g, '')
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

test('every relative link of the README and docs/ reaches a file, and a heading when it names one', () => {
  const pages = ['README.md', 'CHANGELOG.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const broken: string[] = [];
  for (const page of pages) {
    const text = readFileSync(join(ROOT, page), 'utf8');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      const [path, anchor] = target!.split('#');
      const file = path ? join(ROOT, dirname(page), path) : join(ROOT, page);
      if (!existsSync(file)) {
        broken.push(`${page}: ${target}`);
        continue;
      }
      if (!anchor || !file.endsWith('.md')) continue;
      const headings = [...readFileSync(file, 'utf8').matchAll(/^#+ (.+)$/gm)].map(([, heading]) => anchorOf(heading!));
      if (!headings.includes(anchor)) broken.push(`${page}: ${target}`);
    }
  }
  expect(broken).toEqual([]);
});

describe.skipIf(!existsSync(CURL))(`each README example, run with ${CURL} against the sandbox`, () => {
  const { upstream: sandbox, gw } = useGatewayOn(startSandboxUpstream);

  const outputs = new Map<string, string>();
  test.each(examples.map((example) => [example.name, example] as const))('%s', async (name, example) => {
    const output = await run(example.command, gw.url.origin);
    outputs.set(name, output);
    const actual = comparable(example, output);
    const shown = comparable(example, example.output);
    expect(actual).toEqual(shown);
  });

  test('the keyed example and its replay are the same request, answered with the same history', () => {
    const [keyed, replay] = ['keyed', 'keyed-replay'].map((name) => examples.find((example) => example.name === name)!);
    expect(replay!.command).toBe(keyed!.command);
    // The comparison above masks ids and times; the replay must repeat the first answer's exactly.
    const historyOf = (name: string) =>
      (JSON.parse(outputs.get(name)!) as { data: { addChallengeHistory: { challengeHistory: unknown } } }).data.addChallengeHistory.challengeHistory;
    expect(historyOf('keyed-replay')).toEqual(historyOf('keyed'));
  });

  test('the sandbox recorded the awards the examples show as recorded, once each, and no other', () => {
    // The mutation (100 points), the keyed award once (20: its replay sent nothing), then the batch's
    // two successes (50 and 250); the refusals recorded nothing.
    expect(sandbox.histories.map((history) => [(history.ambassador as { id_ambassador: number }).id_ambassador, history.points])).toEqual([
      [1, 100],
      [2, 20],
      [2, 50],
      [3, 250],
    ]);
  });
});

if (!existsSync(CURL)) console.warn(`README examples not run: ${CURL} is missing (the examples are curl commands).`);
