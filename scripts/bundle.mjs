// Bundles the compiled gateway (dist/src/main.js, tsc's output) into the one file `npm start`
// runs, dist/gateway.mjs. Node then opens, resolves and compiles one file instead of several
// hundred modules: on the bench's machine, spawn to /health answering went from about 1.0 s to
// 0.5 s and the RSS after start-up from 104 to 87 MiB (docs/performance.md). Not minified: stack
// traces keep their names, and the linked source map leads back to src/ (--enable-source-maps).
//
//   node scripts/bundle.mjs      (part of `npm run build`; esbuild is a dev dependency)

import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

await build({
  absWorkingDir: root,
  entryPoints: ['dist/src/main.js'],
  outfile: 'dist/gateway.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  // GraphiQL's page and assets are a large bundle of their own, loaded only when GraphiQL is on:
  // they stay in node_modules, imported at run time like ioredis and the OpenTelemetry SDK.
  external: ['@graphql-yoga/render-graphiql'],
  // The CommonJS packages inside require Node's built-ins.
  banner: { js: "import { createRequire as createBundleRequire } from 'node:module'; const require = createBundleRequire(import.meta.url);" },
  logLevel: 'warning',
});
