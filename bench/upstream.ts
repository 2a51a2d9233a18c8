// The bench's upstream: plain node:http answering every POST .../challenge-histories with one
// canned, valid ChallengeHistory body (after LATENCY_MS, if set), and every GET .../challenges/{id}
// with a canned challenge. GET /__posts, /__gets and POST /__reset let the runner count what it received. Run as its own process: PORT=... node upstream.js

import { createServer } from 'node:http';
import { challengeBody, challengeHistoryBody } from '../scripts/support/scriptable-upstream.js';

const port = Number(process.env.PORT);
const latencyMs = Number(process.env.LATENCY_MS ?? 0);
const body = Buffer.from(JSON.stringify(challengeHistoryBody()));
const headers = { 'content-type': 'application/json', 'content-length': body.length };
const challenge = Buffer.from(JSON.stringify(challengeBody(3)));
const challengeHeaders = { 'content-type': 'application/json', 'content-length': challenge.length };
let posts = 0;
let gets = 0;

const server = createServer((req, res) => {
  req.resume(); // the body is not needed, but must be read for the connection to be reused
  req.on('end', () => {
    if (req.url === '/__posts') return void res.end(String(posts));
    if (req.url === '/__gets') return void res.end(String(gets));
    if (req.url === '/__reset') {
      posts = 0;
      gets = 0;
      return void res.end('0');
    }
    if (req.headers.authorization === undefined) {
      // The API's answer without a token (the gateway's start-up probe).
      return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"Unauthorized."}');
    }
    if (req.method === 'GET' && req.url?.includes('/manager/challenges/')) {
      gets++;
      return void res.writeHead(200, challengeHeaders).end(challenge);
    }
    if (req.method !== 'POST' || !req.url?.endsWith('/challenge-histories')) {
      res.writeHead(404).end();
      return;
    }
    posts++;
    const answer = () => res.writeHead(201, headers).end(body);
    if (latencyMs > 0) setTimeout(answer, latencyMs);
    else answer();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
