// The raw-socket helpers live in scripts/support/ so that the load test can use them without
// importing from test/; the tests import them from here.
export * from '../../scripts/support/raw-http.js';
