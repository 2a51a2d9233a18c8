// The redis-server helper lives in scripts/support/ so that the load test and the bench can use it
// without importing from test/; the tests keep importing it from here.
export * from '../../scripts/support/redis.js';
