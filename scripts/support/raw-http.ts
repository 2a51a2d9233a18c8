// Raw HTTP/1.1 on a socket, for clients no HTTP library would be: a request whose body never
// completes (slow bodies), headers that stall.

import { connect } from 'node:net';
import type { Socket } from 'node:net';

export interface RawExchange {
  socket: Socket;
  /** Everything the gateway sent until it closed the connection, and when it closed (ms after opening). */
  closed: Promise<{ text: string; afterMs: number }>;
}

// One buffer for every slow client: they share the measuring process, and must not be what grows.
const SPACES = Buffer.alloc(1024 * 1024, 0x20);

/** Opens a connection and sends `head` (and `bodyBytes` of body, at most 1 MiB) without ever finishing the request. */
export function stall(url: URL, head: string, bodyBytes = 0): RawExchange {
  const opened = performance.now();
  const socket = connect(Number(url.port), url.hostname);
  socket.on('error', () => {}); // a refused upload ends in EPIPE/ECONNRESET: expected here
  socket.write(head);
  if (bodyBytes > 0) socket.write(SPACES.subarray(0, bodyBytes));
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const closed = new Promise<{ text: string; afterMs: number }>((resolve) =>
    socket.once('close', () =>
      resolve({
        text: Buffer.concat(chunks).toString('utf8'),
        afterMs: performance.now() - opened,
      }),
    ),
  );
  return { socket, closed };
}

/** The head of a JSON POST declaring `length` bytes of body. */
export const postHead = (path: string, length: number) =>
  `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n`;

/** The status of a raw answer (0 when the connection closed unanswered). */
export const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
/** The first error code of a raw answer's JSON body. */
export const codeOf = (text: string) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).errors[0].extensions.code as string;

/**
 * Sends a whole POST of `body` to `path` and never reads the answer (the socket is paused): the
 * client that leaves its answer in the gateway's buffers. Nothing is read until it closes.
 */
export function nonReading(url: URL, path: string, body: string, headers = ''): RawExchange {
  const opened = performance.now();
  const socket = connect(Number(url.port), url.hostname);
  socket.on('error', () => {});
  socket.pause();
  socket.write(`${postHead(path, Buffer.byteLength(body)).replace('\r\n\r\n', `\r\n${headers}\r\n`)}${body}`);
  const closed = new Promise<{ text: string; afterMs: number }>((resolve) =>
    socket.once('close', () => resolve({ text: '', afterMs: performance.now() - opened })),
  );
  return { socket, closed };
}
