// A loopback port whose TCP connects never complete, for connect-timeout tests.

import type { Socket } from 'node:net';
export interface StalledListener {
  /** Base URL, including /api/v2, to use as UPSTREAM_URL: a TCP connect to it never completes. */
  url: URL;
  close(): Promise<void>;
}

// Runs in a worker thread: listens with the smallest accept queue, then blocks its own event
// loop so nothing is ever accepted, until the test lets go.
const STALLED_LISTENER = `
const { parentPort, workerData } = require('node:worker_threads');
const server = require('node:net').createServer();
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  parentPort.postMessage(server.address().port);
  Atomics.wait(workerData.release, 0, 0);
  server.close();
});
`;

/**
 * A loopback port whose TCP connects never complete: the listener's accept queue is filled by
 * connections this helper opens itself, after which the kernel drops further SYNs (Linux).
 */
export async function startStalledListener(): Promise<StalledListener> {
  const { Worker } = await import('node:worker_threads');
  const { connect } = await import('node:net');
  const release = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(STALLED_LISTENER, { eval: true, workerData: { release } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const fillers: Socket[] = [];
  let full = false;
  // Open connections until one does not complete: the queue is full (bounded: at most 16).
  for (let i = 0; i < 16 && !full; i++) {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    fillers.push(socket);
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 300);
      socket.once('connect', () => (clearTimeout(timer), resolve(true)));
    });
    full = !connected;
  }
  const close = async () => {
    for (const socket of fillers) socket.destroy();
    Atomics.store(release, 0, 1);
    Atomics.notify(release, 0);
    await new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  };
  if (!full) {
    await close();
    throw new Error('the accept queue did not fill: connects to this port still complete');
  }
  return {
    url: new URL(`http://127.0.0.1:${port}/api/v2`),
    close,
  };
}
