// Real Redis topologies for tests and the load test: a Cluster (masters, optionally one replica
// each) and a Sentinel group (a master, replicas, three sentinels), each on free loopback ports,
// configured as production should be (noeviction, AOF on), with the moves an operator's bad day
// makes: a slot migrated mid-run, a master killed with SIGKILL and its replica promoted. Every
// process and temporary directory goes at stop() (or when the test process exits);
// KEEP_REDIS_DIRS=1 keeps a Sentinel group's directory (the sentinels' logs) for a post-mortem.

import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ping } from './redis.js';

const HOST = '127.0.0.1';
/** What production should run (issue: a store fit for money): no eviction, every write in the AOF. */
// A replica's first sync starts at once (Redis 7 waits 5 s for more replicas by default).
const PRODUCTION_LIKE = ['--maxmemory-policy', 'noeviction', '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--repl-diskless-sync-delay', '0'];

/** One redis-server (or sentinel) process on its own port and directory. */
export interface RedisNode {
  port: number;
  /** host:port */
  address: string;
  pid(): number | null;
  /** SIGKILL, as a crashed machine: no shutdown, no last write. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory (its AOF comes back), with extra arguments. */
  start(extraArgs?: string[]): Promise<void>;
}

/** A command to one node, through redis-cli (bounded to 5 s); the reply as redis-cli prints it raw. */
export function redisCommand(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['-h', HOST, '-p', String(port), '--raw', ...args], { timeout: 5_000 }, (error, stdout) =>
      error ? reject(error) : resolve(stdout.trim()),
    );
  });
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

async function startNode(root: string, name: string, args: (port: number, dir: string) => string[], port?: number): Promise<RedisNode> {
  const nodePort = port ?? (await freePort());
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  let child: ChildProcess | null = null;
  const start = async (extraArgs: string[] = []) => {
    const spawned = spawn('redis-server', [...args(nodePort, dir), ...extraArgs], { cwd: dir, stdio: 'ignore' });
    child = spawned;
    running.add(spawned);
    spawned.once('exit', () => running.delete(spawned));
    const deadline = Date.now() + 10_000;
    while (!(await ping(nodePort))) {
      if (spawned.exitCode !== null) throw new Error(`redis-server ${name} exited (${spawned.exitCode}) on port ${nodePort}`);
      if (Date.now() > deadline) throw new Error(`redis-server ${name} did not start on port ${nodePort}`);
      await sleep(20);
    }
  };
  const kill = async () => {
    const process = child;
    child = null;
    if (!process || process.exitCode !== null || process.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      process.once('exit', () => resolve());
      process.kill('SIGKILL');
    });
  };
  await start();
  return { port: nodePort, address: `${HOST}:${nodePort}`, pid: () => child?.pid ?? null, kill, start };
}

const serverArgs = (port: number, dir: string, extra: string[] = []) => [
  '--port', String(port), '--bind', HOST, '--dir', dir, ...PRODUCTION_LIKE, ...extra,
];

export interface TestRedisCluster {
  masters: RedisNode[];
  replicas: RedisNode[];
  /** Comma-separated host:port of every master: REDIS_CLUSTER_NODES. */
  seeds: string;
  env(): Record<string, string>;
  /** The slot a key hashes to (CLUSTER KEYSLOT). */
  slotOf(key: string): Promise<number>;
  /** The master serving a slot. */
  ownerOf(slot: number): Promise<RedisNode>;
  /**
   * Moves one slot, with its keys, to another master as `redis-cli --cluster reshard` does:
   * SETSLOT IMPORTING / MIGRATING, MIGRATE the keys in batches, SETSLOT NODE on every master.
   * `between` runs after the first batch moved (clients then see ASK for that slot).
   */
  migrateSlot(slot: number, to: RedisNode, between?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

/** A Cluster of `masters` masters (3 at least), each with `replicasPerMaster` replicas, `cluster_state:ok` on every node. */
export async function startRedisCluster({ masters = 3, replicasPerMaster = 0 } = {}): Promise<TestRedisCluster> {
  const root = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
  const nodes: RedisNode[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.kill()));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const count = masters * (1 + replicasPerMaster);
    for (let i = 0; i < count; i++) {
      nodes.push(
        await startNode(root, `node-${i}`, (port, dir) =>
          serverArgs(port, dir, ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-node-timeout', '2000']),
        ),
      );
    }
    await new Promise<void>((resolve, reject) => {
      const args = ['--cluster', 'create', ...nodes.map((n) => n.address), '--cluster-replicas', String(replicasPerMaster), '--cluster-yes'];
      execFile('redis-cli', args, { timeout: 30_000 }, (error, stdout) => (error ? reject(new Error(`cluster create: ${error.message}\n${stdout}`)) : resolve()));
    });
    const deadline = Date.now() + 30_000;
    for (const node of nodes) {
      while (!(await redisCommand(node.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) {
        if (Date.now() > deadline) throw new Error(`cluster_state is not ok on ${node.address}`);
        await sleep(50);
      }
    }
    // Every replica in sync with its master: until then a WAIT (REDIS_MIN_REPLICAS) has no one to answer it.
    for (const node of nodes) {
      for (;;) {
        const replication = await redisCommand(node.port, 'INFO', 'replication');
        if (replication.includes('role:master') || replication.includes('master_link_status:up')) break;
        if (Date.now() > deadline) throw new Error(`replica ${node.address} is not in sync`);
        await sleep(50);
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const roles = await Promise.all(nodes.map(async (node) => (await redisCommand(node.port, 'ROLE')).split('\n')[0]));
  const masterNodes = nodes.filter((_, i) => roles[i] === 'master');
  const idOf = (node: RedisNode) => redisCommand(node.port, 'CLUSTER', 'MYID');

  const ownerOf = async (slot: number) => {
    for (const node of masterNodes) {
      const myId = await idOf(node);
      const nodesLine = (await redisCommand(node.port, 'CLUSTER', 'NODES')).split('\n').find((line) => line.startsWith(myId));
      if (nodesLine && ownsSlot(nodesLine, slot)) return node;
    }
    throw new Error(`no master owns slot ${slot}`);
  };

  const seeds = masterNodes.map((n) => n.address).join(',');
  return {
    masters: masterNodes,
    replicas: nodes.filter((n) => !masterNodes.includes(n)),
    seeds,
    env: () => ({ REDIS_CLUSTER_NODES: seeds }),
    slotOf: async (key) => Number(await redisCommand(masterNodes[0]!.port, 'CLUSTER', 'KEYSLOT', key)),
    ownerOf,
    async migrateSlot(slot, to, between) {
      const from = await ownerOf(slot);
      if (from === to) throw new Error(`slot ${slot} is already on ${to.address}`);
      const [fromId, toId] = await Promise.all([idOf(from), idOf(to)]);
      await redisCommand(to.port, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', fromId);
      await redisCommand(from.port, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', toId);
      let batches = 0;
      for (;;) {
        const keys = (await redisCommand(from.port, 'CLUSTER', 'GETKEYSINSLOT', String(slot), '100')).split('\n').filter(Boolean);
        if (keys.length === 0) break;
        await redisCommand(from.port, 'MIGRATE', HOST, String(to.port), '', '0', '5000', 'KEYS', ...keys);
        if (++batches === 1 && between) await between();
      }
      if (batches === 0 && between) await between();
      for (const node of [to, from, ...masterNodes.filter((n) => n !== to && n !== from)]) {
        await redisCommand(node.port, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', toId);
      }
    },
    stop,
  };
}

/** The Cluster slot of a key as Redis computes it: CRC16 (XMODEM) of its hash tag (the first non-empty {...}) or of the whole key, mod 16384. */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  const close = open === -1 ? -1 : key.indexOf('}', open + 1);
  const hashed = close > open + 1 ? key.slice(open + 1, close) : key;
  let crc = 0;
  for (const byte of Buffer.from(hashed)) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

/** Whether a CLUSTER NODES line lists the slot among its ranges ("0-5460 5461 ..."). */
function ownsSlot(line: string, slot: number): boolean {
  return line
    .split(' ')
    .slice(8)
    .some((range) => {
      if (range.startsWith('[')) return false; // a slot being imported or migrated
      const [low, high = low] = range.split('-').map(Number);
      return slot >= low! && slot <= high!;
    });
}

export interface TestRedisSentinel {
  /** The master group name: REDIS_SENTINEL_NAME. */
  name: string;
  /** Comma-separated host:port of the sentinels: REDIS_SENTINELS. */
  sentinelAddresses: string;
  servers: RedisNode[];
  sentinels: RedisNode[];
  env(): Record<string, string>;
  /** The master's port as the sentinels announce it (SENTINEL get-master-addr-by-name). */
  announcedMasterPort(): Promise<number>;
  /** SIGKILL of the current master; answers the node killed. */
  killMaster(): Promise<RedisNode>;
  /** Waits until the sentinels announce a master other than `old`; answers it and when it was seen announced. */
  waitForPromotion(old: RedisNode, timeoutMs?: number): Promise<{ master: RedisNode; announcedAt: number }>;
  /** Starts a killed node again as a replica of the current master. */
  restartAsReplica(node: RedisNode): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A master, `replicas` replicas and `sentinels` sentinels (quorum 2) watching them, with
 * down-after-milliseconds 1000: a killed master is replaced within a few seconds.
 */
export async function startRedisSentinel({ replicas = 2, sentinels = 3, name = 'gateway' } = {}): Promise<TestRedisSentinel> {
  const root = mkdtempSync(join(tmpdir(), 'redis-sentinel-'));
  const servers: RedisNode[] = [];
  const watchers: RedisNode[] = [];
  const stop = async () => {
    await Promise.all([...watchers, ...servers].map((node) => node.kill()));
    if (process.env.KEEP_REDIS_DIRS) console.log('kept', root); else rmSync(root, { recursive: true, force: true });
  };
  try {
    servers.push(await startNode(root, 'server-0', (port, dir) => serverArgs(port, dir)));
    const masterPort = servers[0]!.port;
    for (let i = 1; i <= replicas; i++) {
      servers.push(await startNode(root, `server-${i}`, (port, dir) => serverArgs(port, dir, ['--replicaof', HOST, String(masterPort)])));
    }
    for (let i = 0; i < sentinels; i++) {
      const port = await freePort();
      const conf = join(root, `sentinel-${i}.conf`);
      // Sentinel rewrites its configuration file, so each has its own, writable one.
      writeFileSync(
        conf,
        [
          `port ${port}`,
          `bind ${HOST}`,
          `sentinel monitor ${name} ${HOST} ${masterPort} 2`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 3000`,
          `sentinel parallel-syncs ${name} 1`,
          `logfile ${join(root, `sentinel-${i}.log`)}`,
          '',
        ].join('\n'),
      );
      watchers.push(await startNode(root, `sentinel-${i}`, (_, dir) => [conf, '--sentinel', '--dir', dir], port));
    }
    // Every sentinel knows the replicas and the other sentinels before anything is killed.
    const deadline = Date.now() + 20_000;
    for (const sentinel of watchers) {
      for (;;) {
        const master = await redisCommand(sentinel.port, 'SENTINEL', 'MASTER', name).catch(() => '');
        const field = (key: string) => Number(master.split('\n')[master.split('\n').indexOf(key) + 1]);
        if (field('num-slaves') >= replicas && field('num-other-sentinels') >= sentinels - 1) break;
        if (Date.now() > deadline) throw new Error(`sentinel on ${sentinel.address} does not see ${replicas} replicas and ${sentinels - 1} sentinels`);
        await sleep(100);
      }
    }
    // Every replica holds the master's data before anything is written or killed (a replica promoted
    // before its first sync would be an empty master: a loss the gateway detects, not a failover test).
    for (const server of servers.slice(1)) {
      while (!(await redisCommand(server.port, 'INFO', 'replication')).includes('master_link_status:up')) {
        if (Date.now() > deadline) throw new Error(`replica ${server.address} is not in sync`);
        await sleep(50);
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }

  const announcedMasterPort = async () => {
    for (const sentinel of watchers) {
      const reply = await redisCommand(sentinel.port, 'SENTINEL', 'get-master-addr-by-name', name).catch(() => '');
      const port = Number(reply.split('\n')[1]);
      if (port > 0) return port;
    }
    throw new Error('no sentinel answers the master address');
  };
  const byPort = (port: number) => {
    const node = servers.find((s) => s.port === port);
    if (!node) throw new Error(`the announced master ${port} is not one of this group's servers`);
    return node;
  };

  const sentinelAddresses = watchers.map((s) => s.address).join(',');
  return {
    name,
    sentinelAddresses,
    servers,
    sentinels: watchers,
    env: () => ({ REDIS_SENTINELS: sentinelAddresses, REDIS_SENTINEL_NAME: name }),
    announcedMasterPort,
    async killMaster() {
      const master = byPort(await announcedMasterPort());
      await master.kill();
      return master;
    },
    async waitForPromotion(old, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        // Every sentinel must announce the new master, so that a client asking any of them finds it.
        const ports = await Promise.all(
          watchers.map((s) => redisCommand(s.port, 'SENTINEL', 'get-master-addr-by-name', name).then((r) => Number(r.split('\n')[1]), () => 0)),
        );
        if (ports.every((port) => port !== old.port && port === ports[0])) return { master: byPort(ports[0]!), announcedAt: Date.now() };
        if (Date.now() > deadline) throw new Error(`no promotion within ${timeoutMs} ms (sentinels announce ${ports.join(', ')})`);
        await sleep(50);
      }
    },
    async restartAsReplica(node) {
      await node.start(['--replicaof', HOST, String(await announcedMasterPort())]);
    },
    stop,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
