// The Redis the keyed load test runs on (REDIS_TOPOLOGY=single|sentinel|cluster), and what goes
// wrong with it mid-run: on Sentinel the master is killed with SIGKILL (KILLS times, default 1) and
// the promotion timed; on a Cluster slots move between masters while clients award.

import { ConfigError, loadConfig } from '../../src/app/config.js';
import { startRedis } from './redis.js';
import { redisCommand, startRedisCluster, startRedisSentinel } from './redis-topology.js';

export type TopologyName = 'single' | 'sentinel' | 'cluster';

/** One move made mid-run: when it began, and when the store was whole again (promotion announced, slots moved). */
export interface TopologyEvent {
  what: string;
  at: number;
  doneAt: number;
  /** A failover: keyed awards are refused from `at` until the gateways reach the new master. */
  failover: boolean;
}

export interface LoadTopology {
  name: TopologyName;
  description: string;
  /** The gateway's environment for it (REDIS_MIN_REPLICAS passed through from this process's). */
  env: Record<string, string>;
  /** Runs the mid-run moves spread over `durationMs`; answers what was done. */
  disturb(durationMs: number): Promise<TopologyEvent[]>;
  /** The ports of the master(s) now (for INFO figures). */
  masterPorts(): Promise<number[]>;
  stop(): Promise<void>;
}

/**
 * Whether this build reads REDIS_MIN_REPLICAS (a claim acknowledged by a replica before the POST,
 * the exactly-once issue): without it, a master killed after acknowledging a claim it had not yet
 * replicated loses the claim, and a retry awards again. Asked of the configuration itself: an
 * invalid value is a problem line naming it exactly when the variable is read.
 */
export function minReplicasSupported(): boolean {
  try {
    loadConfig({ REDIS_MIN_REPLICAS: 'not-a-number' });
    return false;
  } catch (error) {
    return error instanceof ConfigError && error.problems.some((problem) => problem.includes('REDIS_MIN_REPLICAS'));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startLoadTopology(name: string = 'single'): Promise<LoadTopology> {
  // REDIS_MIN_REPLICAS (the exactly-once issue's WAIT) goes to the gateways as set; on Sentinel it defaults to 1.
  const minReplicas = (fallback?: string): Record<string, string> => {
    const value = process.env.REDIS_MIN_REPLICAS ?? fallback;
    return value === undefined ? {} : { REDIS_MIN_REPLICAS: value };
  };
  switch (name) {
    case 'single': {
      // Fit for money: a production gateway refuses a Redis without persistence.
      const redis = await startRedis({ args: ['--appendonly', 'yes'] });
      return {
        name,
        description: 'one redis-server',
        env: { REDIS_URL: redis.url, ...minReplicas() },
        disturb: async () => [],
        masterPorts: async () => [redis.port],
        stop: redis.stop,
      };
    }
    case 'sentinel': {
      const kills = Number(process.env.KILLS ?? 1);
      const group = await startRedisSentinel({ replicas: 2, sentinels: 3 });
      const env = { ...group.env(), ...minReplicas('1') };
      return {
        name,
        description:
          `Sentinel: a master, 2 replicas, 3 sentinels, REDIS_MIN_REPLICAS=${env.REDIS_MIN_REPLICAS}` +
          `${minReplicasSupported() ? '' : ' (not read by this build: a claim lost in the failover can be awarded twice)'}; the master SIGKILLed ${kills} time(s)`,
        env,
        async disturb(durationMs) {
          const events: TopologyEvent[] = [];
          const started = Date.now();
          for (let kill = 1; kill <= kills; kill++) {
            await sleep(started + (kill * durationMs) / (kills + 1) - Date.now());
            const old = await group.killMaster();
            const at = Date.now();
            const { master, announcedAt } = await group.waitForPromotion(old, 60_000);
            events.push({ what: `master ${old.port} killed, ${master.port} promoted`, at, doneAt: announcedAt, failover: true });
            await group.restartAsReplica(old);
          }
          return events;
        },
        masterPorts: async () => [await group.announcedMasterPort()],
        stop: group.stop,
      };
    }
    case 'cluster': {
      const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
      return {
        name,
        description: `Cluster: 3 masters with a replica each; 10 slots moved from one master to another mid-run`,
        env: { ...cluster.env(), ...minReplicas() },
        async disturb(durationMs) {
          await sleep(durationMs / 2);
          const at = Date.now();
          const [from, to] = cluster.masters;
          const first = await firstSlotOf(from!.port);
          for (let slot = first; slot < first + 10; slot++) await cluster.migrateSlot(slot, to!);
          return [{ what: `slots ${first}-${first + 9} moved ${from!.port} -> ${to!.port}`, at, doneAt: Date.now(), failover: false }];
        },
        masterPorts: async () => cluster.masters.map((node) => node.port),
        stop: cluster.stop,
      };
    }
    default:
      throw new Error(`REDIS_TOPOLOGY must be single, sentinel or cluster, got "${name}"`);
  }
}

/** The first slot of a master's range (redis-cli --cluster create gives each master one). */
async function firstSlotOf(port: number): Promise<number> {
  const myId = await redisCommand(port, 'CLUSTER', 'MYID');
  const line = (await redisCommand(port, 'CLUSTER', 'NODES')).split('\n').find((l) => l.startsWith(myId))!;
  return Number(line.split(' ')[8]!.split('-')[0]);
}
