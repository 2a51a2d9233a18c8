// Keeps dist/ in step with src/ without compiling on every start. `npm ci` runs it once
// (`prepare`), `npm start` runs it before the gateway (`prestart`): it compiles only when an
// output is missing or older than its source (or a tsconfig changed), so a source change never
// runs stale code and an unchanged checkout starts at once. Plain JavaScript: it runs where
// only production dependencies are installed.
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
const CONFIGS = ['tsconfig.json', 'tsconfig.build.json'];
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
  const entry = join(root, 'dist/src/main.js');
  const built = mtimeOf(entry);
  if (built === undefined) return 'dist/ has no build yet';
  const config = CONFIGS.find((name) => mtimeOf(join(root, name)) > built);
  if (config) return `${config} changed since the last build`;
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
  let tsc;
  try {
    tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    if (atInstall) {
      console.error('Not building dist/: TypeScript (a dev dependency) is not installed here; run `npm run build` where it is.');
      process.exit(0);
    }
    fail(`Cannot start: ${reason}, and TypeScript (a dev dependency) is not installed to build it; run \`npm run build\` where it is.`);
  }
  console.error(`Building dist/ (${reason})...`);
  // tsc reports on stdout; the gateway's stdout carries only its JSON log lines.
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--noEmitOnError'], { cwd: root, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) fail('Cannot start: the TypeScript build failed (errors above); fix them or run `npm run dev`.');
}
