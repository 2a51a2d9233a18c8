// Ends a test run with the plain "N passed, N failed, N skipped" line that CI reads, whatever
// the runner's own summary looks like.

import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const count = { passed: 0, failed: 0, skipped: 0, pending: 0 };
    for (const module of testModules) {
      for (const test of module.children.allTests()) count[test.result().state] += 1;
    }
    // Files that failed to load have no tests to count; they still fail the run.
    const brokenFiles = testModules.filter((module) => module.state() === 'failed' && !module.children.size).length;
    console.log(`\ntests: ${count.passed} passed, ${count.failed + brokenFiles} failed, ${count.skipped + count.pending} skipped`);
  }
}
