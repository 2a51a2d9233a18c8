// A TCP proxy on loopback in front of a redis-server, to lose what a real network loses: it
// forwards both ways, and on request drops the reply to one command (after Redis ran it, the
// client's connection is closed, as a CLIENT KILL, a failover or a reset does) and refuses new
// connections for a while.

import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

export interface RedisProxy {
  /** redis://127.0.0.1:PORT (the proxy's). */
  url: string;
  /**
   * The next client chunk that contains `marker` is forwarded, Redis's reply to it is dropped and
   * the client connection closed; new connections are then refused for `refuseMs`.
   */
  dropReplyTo(marker: string, refuseMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startRedisProxy(redisPort: number): Promise<RedisProxy> {
  const sockets = new Set<Socket>();
  let armed: { marker: string; refuseMs: number; dropped(): void } | null = null;
  let refuseUntil = 0;

  const server = createServer((client) => {
    if (Date.now() < refuseUntil) return void client.destroy();
    const redis = createConnection({ port: redisPort, host: '127.0.0.1' });
    sockets.add(client).add(redis);
    let dropping: (() => void) | null = null;
    const end = () => {
      client.destroy();
      redis.destroy();
      sockets.delete(client);
      sockets.delete(redis);
    };
    client.on('data', (chunk: Buffer) => {
      if (armed && chunk.includes(armed.marker)) {
        const { refuseMs, dropped } = armed;
        armed = null;
        dropping = () => {
          refuseUntil = Date.now() + refuseMs;
          end();
          dropped();
        };
      }
      redis.write(chunk);
    });
    redis.on('data', (chunk: Buffer) => {
      // Redis answered (so it ran the command): the reply never reaches the client.
      if (dropping) return dropping();
      client.write(chunk);
    });
    client.on('close', end).on('error', end);
    redis.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    dropReplyTo: (marker, refuseMs = 0) => new Promise<void>((dropped) => (armed = { marker, refuseMs, dropped })),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
