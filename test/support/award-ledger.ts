// The award ledger lives in scripts/support/ so that the load test can use it without importing
// from test/; the tests import it from here.
export * from '../../scripts/support/award-ledger.js';
