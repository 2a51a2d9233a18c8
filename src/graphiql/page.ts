// The GraphiQL HTML page: links to the gateway's own files only, its settings in a JSON data
// block. Nothing in it executes inline.

import type { GraphiQLOptions } from 'graphql-yoga';
import type { GraphiQLAssets } from './assets.js';
import { GRAPHIQL_CONFIG_ELEMENT_ID } from './start-script.js';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);

/** JSON that cannot end its <script> element early: every "<" becomes \u003c, which JSON.parse reads back. */
const scriptSafeJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

export function renderGraphiQLPage(assets: GraphiQLAssets, options: GraphiQLOptions): string {
  const config = { workers: assets.workers, options };
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${escapeHtml(options.title ?? 'GraphiQL')}</title>
    <link rel="icon" href="${assets.favicon}" />
    <link rel="stylesheet" href="${assets.stylesheet}" />
    <script type="application/json" id="${GRAPHIQL_CONFIG_ELEMENT_ID}">${scriptSafeJson(config)}</script>
    <script src="${assets.startScript}" defer></script>
    <script src="${assets.script}" defer></script>
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>GraphiQL needs JavaScript.</noscript>
    <div id="root"></div>
  </body>
</html>
`;
}
