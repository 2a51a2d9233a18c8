// GraphiQL, served entirely by the gateway: the page for a browser's GET of the GraphQL endpoint,
// and its files under /graphiql/. On while developing and in the sandbox (opening with the example
// mutation and the sandbox token); in production only with GRAPHIQL=true, and then never prefilled.

import { shouldRenderGraphiQL } from 'graphql-yoga';
import type { GraphiQLOptions, Plugin } from 'graphql-yoga';
import type { GatewayConfig } from '../app/config.js';
import { GRAPHIQL_ASSETS_PREFIX, loadGraphiQLAssets } from './assets.js';
import type { GraphiQLAssets } from './assets.js';
import { renderGraphiQLPage } from './page.js';

/**
 * The gateway's own origin only. Styles: Monaco writes its theme into <style> elements at run
 * time, hence 'unsafe-inline' for styles (never for scripts). Fonts and icons are data: URLs
 * inside the bundle's CSS. No 'unsafe-eval': neither GraphiQL nor Monaco evaluates strings.
 */
export const GRAPHIQL_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const GRAPHIQL_SECURITY_HEADERS = {
  'content-security-policy': GRAPHIQL_CONTENT_SECURITY_POLICY,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};
// The page may carry the sandbox token; the files are named by their content hash.
const PAGE_CACHE = 'no-store';
const ASSET_CACHE = 'public, max-age=31536000, immutable';

export interface GraphiQLPageSettings {
  /** The GraphQL endpoint the page queries. */
  endpoint: string;
  title: string;
  /** The operation the editor opens with (not in production: it could award points). */
  query: string;
  /** The token the headers editor opens with (the sandbox's); a placeholder otherwise. */
  token?: string;
}

/** What the page opens with: the example while developing, nothing to run by accident in production. */
export function graphiqlOptions(config: GatewayConfig, settings: GraphiQLPageSettings): GraphiQLOptions {
  const production = config.nodeEnv === 'production';
  const token = (!production && settings.token) || '<your token>';
  return {
    title: settings.title,
    endpoint: settings.endpoint,
    ...(production ? {} : { defaultQuery: settings.query }),
    headers: JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2),
    // Tokens typed into the headers editor stay out of the browser's localStorage.
    shouldPersistHeaders: false,
  };
}

/** The plugin serving GraphiQL, or none when GRAPHIQL is off (then /graphiql/ is not served at all). */
export function useSelfHostedGraphiQL(config: GatewayConfig, settings: GraphiQLPageSettings): Plugin[] {
  if (!config.graphiql.enabled) return [];
  const options = graphiqlOptions(config, settings);
  let loading: Promise<{ assets: GraphiQLAssets; page: string }> | undefined;
  const load = () =>
    (loading ??= loadGraphiQLAssets().then((assets) => ({ assets, page: renderGraphiQLPage(assets, options) })));

  return [
    {
      onRequest({ request, url, endResponse, fetchAPI }) {
        const respond = (status: number, body: BodyInit, headers: Record<string, string>) =>
          endResponse(new fetchAPI.Response(body, { status, headers: { ...GRAPHIQL_SECURITY_HEADERS, ...headers } }));
        if (url.pathname === settings.endpoint && shouldRenderGraphiQL(request)) {
          return load().then(({ page }) => respond(200, page, { 'content-type': 'text/html; charset=utf-8', 'cache-control': PAGE_CACHE }));
        }
        if (request.method !== 'GET' || !url.pathname.startsWith(GRAPHIQL_ASSETS_PREFIX)) return;
        return load().then(({ assets }) => {
          const asset = assets.byPath.get(url.pathname);
          if (!asset) return respond(404, 'Not found\n', { 'content-type': 'text/plain; charset=utf-8' });
          const gzip = /\bgzip\b/.test(request.headers.get('accept-encoding') ?? '');
          return respond(200, gzip ? asset.gzipped : asset.body, {
            'content-type': asset.contentType,
            'cache-control': ASSET_CACHE,
            vary: 'accept-encoding',
            ...(gzip ? { 'content-encoding': 'gzip' } : {}),
          });
        });
      },
    },
  ];
}
