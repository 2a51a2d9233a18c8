// The two printed schemas: schema.graphql for clients, subgraph.graphql for routers.

import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { printClientSchema, printSubgraphSchema } from '../../src/schema/print.js';
import { useGatewayOn } from '../support/gateway.js';
import { startScriptableUpstream } from '../support/scriptable-upstream.js';

const committed = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

const { upstream, gw } = useGatewayOn(startScriptableUpstream);

test('subgraph.graphql is what the Pothos code prints (run `npm run print-schema` after schema changes)', () => {
  expect(committed('subgraph.graphql')).toBe(printSubgraphSchema());
});

test('subgraph.graphql declares the entities and their keys', () => {
  const sdl = printSubgraphSchema();
  expect(sdl).toMatch(/^extend schema\s+@link\(url: "https:\/\/specs\.apollo\.dev\/federation\/v2\.6", import: \["@key"\]\)/);
  expect(sdl).toMatch(/type Challenge\s+@key\(fields: "id"\)\s+\{/);
  expect(sdl).toMatch(/type Ambassador\s+@key\(fields: "id", resolvable: false\)\s+\{/);
});

test('schema.graphql stays the client-facing schema, without federation fields or directives', () => {
  expect(printClientSchema()).not.toMatch(/_entities|_service|_Any|_Entity|@key|@link/);
});

test('the served _service { sdl } is subgraph.graphql, and needs no token (a router reads it at build time)', async () => {
  const res = await gw.graphql({ query: '{ _service { sdl } }' }, { token: null });
  expect(`${res.body.data._service.sdl}\n`).toBe(committed('subgraph.graphql'));
  expect(upstream.requests).toHaveLength(0);
});

test('only Challenge is in _Entity: this subgraph resolves Challenge references, not Ambassador ones', async () => {
  const res = await gw.graphql({ query: '{ __type(name: "_Entity") { possibleTypes { name } } }' });
  expect(res.body.data.__type.possibleTypes).toEqual([{ name: 'Challenge' }]);
});
