import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Integration tests start servers on loopback; two cores do not gain from more forks.
    pool: 'forks',
    maxWorkers: 2,
  },
});
