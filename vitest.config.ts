import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (index.js) and ESM (index.mjs) without an exports map: Node loads the
    // CJS one for every dependency, Vite would load the ESM one for our sources. Two copies break
    // `instanceof GraphQLError`, so tests load the same file Node does in production.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Integration tests start servers on loopback; two cores do not gain from more forks.
    pool: 'forks',
    maxWorkers: 2,
  },
});
