// Keeps dist/ in step with src/ without compiling on every start. `npm ci` runs it once
// (`prepare`), `npm start` runs it before the gateway (`prestart`): it builds (tsc, then the
// bundle `npm start` runs: scripts/bundle.mjs) only when an output is missing or older than its
// source (or a tsconfig or the bundle script changed), so a source change never runs stale code
// and an unchanged checkout starts at once. Plain JavaScript: it runs where only production
// dependencies are installed.
//
//   node scripts/ensure-build.mjs              build if needed; exit 1 if it cannot
//   node scripts/ensure-build.mjs --at-install the same, but without TypeScript installed
//                                              (npm ci --omit=dev) skip the build, saying so

import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const atInstall = process.argv.includes('--at-install');
const BUILD_INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'scripts/bundle.mjs'];
// Source extension -> what tsc writes for it under dist/ (a JSON file only when a module imports it).
const OUTPUT_EXTENSION = { '.ts': '.js', '.json': '.json' };

const mtimeOf = (path) => statSync(path, { throwIfNoEntry: false })?.mtimeMs;

function* sourcesIn(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourcesIn(path);
    else if (!entry.name.endsWith('.d.ts') && Object.keys(OUTPUT_EXTENSION).some((ext) => entry.name.endsWith(ext))) yield path;
  }
}

/** Why dist/ must be rebuilt, or null when every output is newer than its source. */
function staleReason() {
  // What npm start runs, made last: every other output is older.
  const built = mtimeOf(join(root, 'dist/gateway.mjs'));
  if (built === undefined) return 'dist/ has no build yet';
  const input = BUILD_INPUTS.find((name) => mtimeOf(join(root, name)) > built);
  if (input) return `${input} changed since the last build`;
  if (mtimeOf(join(root, 'dist/src/main.js')) > built) return 'dist/src/ changed since the last bundle';
  for (const source of sourcesIn(join(root, 'src'))) {
    const ext = source.endsWith('.ts') ? '.ts' : '.json';
    const output = join(root, 'dist', relative(root, source).slice(0, -ext.length) + OUTPUT_EXTENSION[ext]);
    const outputTime = mtimeOf(output);
    if (outputTime === undefined ? ext === '.ts' : outputTime < mtimeOf(source)) return `${relative(root, source)} changed since the last build`;
  }
  return null;
}

function fail(message) {
  console.error(message);
  process.exit(1);
}

const reason = staleReason();
if (reason) {
  // The build's tools, both dev dependencies: the first one missing is named.
  const tools = [
    ['TypeScript', 'typescript/bin/tsc'],
    ['esbuild', 'esbuild'],
  ];
  const resolve = createRequire(join(root, 'package.json')).resolve;
  const missing = tools.find(([, module]) => {
    try {
      resolve(module);
      return false;
    } catch {
      return true;
    }
  });
  if (missing) {
    if (atInstall) {
      console.error(`Not building dist/: ${missing[0]} (a dev dependency) is not installed here; run \`npm run build\` where it is.`);
      process.exit(0);
    }
    fail(`Cannot start: ${reason}, and ${missing[0]} (a dev dependency) is not installed to build it; run \`npm run build\` where it is.`);
  }
  console.error(`Building dist/ (${reason})...`);
  // tsc reports on stdout; the gateway's stdout carries only its JSON log lines.
  const build = (args) => spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 2, 2] }).status === 0;
  if (!build([resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--noEmitOnError'])) {
    fail('Cannot start: the TypeScript build failed (errors above); fix them or run `npm run dev`.');
  }
  if (!build([join(root, 'scripts/bundle.mjs')])) fail('Cannot start: bundling dist/gateway.mjs failed (errors above).');
}
