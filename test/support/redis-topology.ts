// The Cluster and Sentinel helpers live in scripts/support/ (the load test starts them too); tests import them from here.
export * from '../../scripts/support/redis-topology.js';
