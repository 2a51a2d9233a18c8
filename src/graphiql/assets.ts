// graphiql/: the GraphiQL page, served without internet: its assets embedded, its start script, and the plugin that serves it.
//
// GraphiQL's files, served by the gateway itself: the bundle Yoga publishes for offline use
// (@graphql-yoga/render-graphiql, the same GraphiQL as Yoga's CDN page, with its fonts and
// icons inlined as data: URLs) split into separate files, so that the page needs no inline
// script, no blob: worker and nothing from another host. Each file's path carries a hash of its
// content, so browsers may cache it for good and a new version is a new path. Each is also kept
// gzipped (about 9 MB becomes 2.5): the first visit through a slow network is the slow part.

import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { START_SCRIPT } from './start-script.js';

/** Every GraphiQL file is served under this prefix (the page itself is GET /graphql for a browser). */
export const GRAPHIQL_ASSETS_PREFIX = '/graphiql/';

export interface GraphiQLAsset {
  path: string;
  contentType: string;
  body: Buffer<ArrayBuffer>;
  gzipped: Buffer<ArrayBuffer>;
}

export interface GraphiQLAssets {
  byPath: ReadonlyMap<string, GraphiQLAsset>;
  /** Paths the page links to. */
  script: string;
  startScript: string;
  stylesheet: string;
  favicon: string;
  /** Monaco's worker label -> script path (the labels GraphiQL asks for). */
  workers: Record<'editorWorkerService' | 'json' | 'graphql', string>;
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** A data: URL's bytes ("data:image/x-icon;base64,AAAB..." -> the icon). */
function dataUrlBytes(url: string): { contentType: string; body: Buffer<ArrayBuffer> } {
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (!match) throw new Error('GraphiQL favicon is not a base64 data: URL');
  return { contentType: match[1]!, body: Buffer.from(match[2]!, 'base64') };
}

const gzipped = promisify(gzip);

async function asset(name: string, contentType: string, content: string | Buffer<ArrayBuffer>): Promise<GraphiQLAsset> {
  const body = typeof content === 'string' ? Buffer.from(content) : content;
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
  // zlib's thread pool, not the event loop, does the compressing.
  return { path: `${GRAPHIQL_ASSETS_PREFIX}${hash}/${name}`, contentType, body, gzipped: (await gzipped(body)) as Buffer<ArrayBuffer> };
}

/** Loads the bundle (about 9 MB of text) on first use only: a gateway without GraphiQL never holds it. */
export async function loadGraphiQLAssets(): Promise<GraphiQLAssets> {
  const bundle = await import('@graphql-yoga/render-graphiql/graphiql');
  const icon = dataUrlBytes(bundle.favicon);
  const [script, startScript, stylesheet, favicon, editorWorkerService, json, graphql] = await Promise.all([
    asset('graphiql.js', JS, bundle.js),
    asset('start.js', JS, START_SCRIPT),
    asset('graphiql.css', CSS, bundle.css),
    asset('favicon.ico', icon.contentType, icon.body),
    asset('editor.worker.js', JS, bundle.editorWorkerService),
    asset('json.worker.js', JS, bundle.jsonWorker),
    asset('graphql.worker.js', JS, bundle.graphqlWorker),
  ]);
  const files = { script, startScript, stylesheet, favicon, editorWorkerService, json, graphql };
  return {
    byPath: new Map(Object.values(files).map((file) => [file.path, file])),
    script: files.script.path,
    startScript: files.startScript.path,
    stylesheet: files.stylesheet.path,
    favicon: files.favicon.path,
    workers: { editorWorkerService: files.editorWorkerService.path, json: files.json.path, graphql: files.graphql.path },
  };
}
