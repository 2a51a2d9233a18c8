// The layers of src/ (docs/architecture.md), held: each rule is checked on the import graph the
// TypeScript pre-processor reads from the sources (type-only imports included), and each is shown
// to fail, naming the import, when one forbidden import is added back.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { importCycles, importGraph, sourceFiles } from './support/import-graph.js';
import type { ImportEdge } from './support/import-graph.js';

const ROOT = new URL('..', import.meta.url).pathname;

const GRAPHQL_PACKAGES = /^(graphql|graphql-yoga|@graphql-yoga\/.*|@pothos\/.*|@apollo\/.*|@escape\.tech\/.*|graphql-scalars|@envelop\/.*)$/;
const inFolder = (folder: string) => (path: string) => path.startsWith(`src/${folder}/`);

interface Rule {
  name: string;
  /** The imports the rule forbids. */
  forbids(edge: ImportEdge): boolean;
}

const RULES: Rule[] = [
  {
    name: 'upstream/ (the REST client) imports nothing of the project outside itself but the error registry, and no GraphQL',
    forbids: ({ from, to }) =>
      inFolder('upstream')(from) &&
      ((to.startsWith('src/') && !inFolder('upstream')(to) && to !== 'src/errors/registry.ts') || GRAPHQL_PACKAGES.test(to)),
  },
  {
    name: 'idempotency/ imports no GraphQL: neither a GraphQL package nor the schema, the plugins, the errors it is mapped to, the data source or the gateway',
    forbids: ({ from, to }) =>
      inFolder('idempotency')(from) && (GRAPHQL_PACKAGES.test(to) || ['schema', 'plugins', 'errors', 'datasource', 'lane', 'app'].some((folder) => inFolder(folder)(to))),
  },
  {
    name: "only the gateway's assembly (src/app/gateway.ts) imports lane/",
    forbids: ({ from, to }) => inFolder('lane')(to) && !inFolder('lane')(from) && from !== 'src/app/gateway.ts',
  },
  {
    name: 'the data source knows no schema, plugin, lane or gateway assembly (resolvers call it, not the reverse)',
    forbids: ({ from, to }) => inFolder('datasource')(from) && ['schema', 'plugins', 'lane', 'http'].some((folder) => inFolder(folder)(to)),
  },
  {
    name: 'resolvers (schema/) never reach the REST client, its endpoints or its URLs: they call the data source',
    forbids: ({ from, to }) =>
      inFolder('schema')(from) && ['src/upstream/client.ts', 'src/upstream/endpoints.ts', 'src/upstream/endpoint.ts'].includes(to) && from !== 'src/schema/context.ts',
  },
  {
    name: 'plugins/ are Yoga plugins: they never import the gateway assembly',
    forbids: ({ from, to }) => inFolder('plugins')(from) && inFolder('app')(to) && to !== 'src/app/config.ts',
  },
];

/** Every import a rule forbids, as "rule: from imports to"; and every import cycle. */
function layerViolations(edges: readonly ImportEdge[]): string[] {
  const forbidden = RULES.flatMap((rule) => edges.filter((edge) => rule.forbids(edge)).map(({ from, to }) => `${rule.name}: ${from} imports ${to}`));
  const cycles = importCycles(edges).map((cycle) => `import cycle: ${[...cycle, cycle[0]].join(' -> ')}`);
  return [...new Set([...forbidden, ...cycles])];
}

const edges = importGraph(ROOT);

describe('the layers of src/', () => {
  test('no import breaks a rule, and there is no import cycle (type-only imports included)', () => {
    expect(edges.length).toBeGreaterThan(200); // the reader read the tree
    expect(layerViolations(edges)).toEqual([]);
  });

  test.each([
    ['src/upstream/client.ts', 'src/errors/upstream-failures.ts', 'upstream/ (the REST client)'],
    ['src/upstream/endpoints.ts', 'src/errors/results.ts', 'upstream/ (the REST client)'],
    ['src/upstream/api.ts', 'graphql', 'upstream/ (the REST client)'],
    ['src/idempotency/idempotency.ts', 'graphql', 'idempotency/ imports no GraphQL'],
    ['src/idempotency/idempotency.ts', 'src/schema/errors.ts', 'idempotency/ imports no GraphQL'],
    ['src/idempotency/index.ts', 'src/app/config.ts', 'idempotency/ imports no GraphQL'],
    ['src/plugins/request-telemetry.ts', 'src/lane/safety.ts', "only the gateway's assembly"],
    ['src/schema/challenge-history.ts', 'src/upstream/client.ts', 'resolvers (schema/) never reach the REST client'],
    ['src/datasource/api.ts', 'src/schema/builder.ts', 'the data source knows no schema'],
  ])('a forbidden import added back is named: %s -> %s', (from, to, rule) => {
    const violations = layerViolations([...edges, { from, to }]);
    expect(violations.some((line) => line.startsWith(rule) && line.endsWith(`${from} imports ${to}`)), violations.join('\n')).toBe(true);
  });

  test('a cycle added back is named, type-only imports included', () => {
    // upstream/types.ts once imported a type from upstream/client.ts, which imports it.
    const violations = layerViolations([...edges, { from: 'src/upstream/types.ts', to: 'src/upstream/client.ts' }]);
    expect(violations).toContain('import cycle: src/upstream/client.ts -> src/upstream/types.ts -> src/upstream/client.ts');
  });

  test("the issue's long cycle, added back, is named as a path of imports", () => {
    // idempotency.ts once imported schema/errors.ts, which loads the builder, the context and so the data source, which runs idempotency.
    const violations = layerViolations([...edges, { from: 'src/idempotency/idempotency.ts', to: 'src/schema/errors.ts' }]);
    const cycle = violations.find((line) => line.startsWith('import cycle:'));
    expect(cycle).toMatch(/^import cycle: src\/datasource\/api\.ts -> .*src\/idempotency\/idempotency\.ts -> src\/schema\/errors\.ts -> .* -> src\/datasource\/api\.ts$/);
  });

  test('the reader sees type-only imports, re-exports and multi-line imports', () => {
    const has = (from: string, to: string) => edges.some((edge) => edge.from === from && edge.to === to);
    expect(has('src/schema/context.ts', 'src/datasource/api.ts')).toBe(true); // `import type`
    expect(has('src/idempotency/index.ts', 'src/idempotency/idempotency.ts')).toBe(true); // `export ... from`
  });
});

describe('the tree says where things go', () => {
  const folders = readdirSync(join(ROOT, 'src'), { withFileTypes: true }).filter((entry) => entry.isDirectory() && entry.name !== 'generated');

  test('src/ holds main.ts and folders by concern, nothing else loose', () => {
    const loose = readdirSync(join(ROOT, 'src'), { withFileTypes: true }).filter((entry) => entry.isFile());
    expect(loose.map((entry) => entry.name)).toEqual(['main.ts']);
  });

  test.each(folders.map((folder) => folder.name))('%s/ says what it is for in its first line', (folder) => {
    const files = sourceFiles(ROOT, `src/${folder}`).filter((file) => file.split('/').length === 3).sort();
    const first = files.find((file) => file.endsWith('/index.ts')) ?? files[0]!;
    const line = readFileSync(join(ROOT, first), 'utf8').split('\n')[0]!;
    expect(line, first).toMatch(new RegExp(`^// ${folder}/: \\S.{20,}`));
  });
});
