// An in-memory stand-in for the upstream REST API on loopback, used by `npm start` when no
// UPSTREAM_URL is set and by tests. It implements the two wrapped endpoints with the upstream's
// documented answers: 401/403 by token, 404 for unknown ids, Laravel-shaped 422.

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SANDBOX_TOKENS, seedAmbassadors, seedChallenges } from './data.js';

export interface SandboxUpstream {
  /** Base URL to use as UPSTREAM_URL, including /api/v2. */
  url: URL;
  /** Challenge histories created so far, oldest first. */
  histories: Record<string, unknown>[];
  close(): Promise<void>;
}

const API_PREFIX = '/api/v2';
const MAX_BODY_BYTES = 64 * 1024;

type Route = (req: IncomingMessage, res: ServerResponse, id: number, body: unknown) => void;

export async function startSandboxUpstream({ host = '127.0.0.1', port = 0 } = {}): Promise<SandboxUpstream> {
  const ambassadors = new Map(seedAmbassadors().map((a) => [a.id_ambassador, a]));
  const challenges = new Map(seedChallenges().map((c) => [c.id, c]));
  const wins = new Map<number, number>();
  const histories: Record<string, unknown>[] = [];

  const addHistory: Route = (_req, res, ambassadorId, body) => {
    const ambassador = ambassadors.get(ambassadorId);
    if (!ambassador) return sendJson(res, 404, { message: 'Not found' });
    const input = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const errors = validateHistory(input, challenges);
    if (Object.keys(errors).length > 0) return sendJson(res, 422, laravelError(errors));

    const challengeId = typeof input.challenge_id === 'number' ? input.challenge_id : null;
    const challenge = challengeId === null ? null : challenges.get(challengeId);
    if (challengeId !== null) wins.set(challengeId, (wins.get(challengeId) ?? 0) + 1);
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, '.000000Z');
    const history = {
      id: histories.length + 1,
      ambassador,
      challenge: challenge && {
        id: challenge.id,
        titles: challenge.titles,
        images: challenge.images,
        descriptions: challenge.descriptions,
        points: challenge.points,
        proportional_points: challenge.proportional_points,
        nb_wins: wins.get(challenge.id) ?? 0,
      },
      message: typeof input.message === 'string' ? input.message : null,
      score: input.score,
      points: input.points,
      created_at: now,
      updated_at: now,
    };
    histories.push(history);
    sendJson(res, 200, history);
  };

  const getChallenge: Route = (_req, res, id) => {
    const challenge = challenges.get(id);
    if (!challenge) return sendText(res, 404, 'Not found');
    sendJson(res, 200, challenge);
  };

  const routes: { method: string; pattern: RegExp; route: Route }[] = [
    { method: 'POST', pattern: /^\/manager\/ambassadors\/(\d+)\/challenge-histories$/, route: addHistory },
    { method: 'GET', pattern: /^\/manager\/challenges\/(\d+)$/, route: getChallenge },
  ];

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://sandbox').pathname;
    const match = path.startsWith(API_PREFIX)
      ? routes.map((r) => ({ r, m: r.pattern.exec(path.slice(API_PREFIX.length)) })).find((x) => x.m)
      : undefined;
    if (!match?.m) return sendText(res, 404, 'Not found');
    if (match.r.method !== req.method) return sendText(res, 405, 'Method Not Allowed');

    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (token === SANDBOX_TOKENS.forbidden) return sendText(res, 403, "Forbidden - You don't have permission to access this route");
    if (token !== SANDBOX_TOKENS.manager) return sendJson(res, 401, { message: 'Unauthorized.' });

    readJsonBody(req)
      .then((body) => match.r.route(req, res, Number(match.m![1]), body))
      .catch(() => sendJson(res, 400, { message: 'Malformed JSON body.' }));
  });

  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const { port: boundPort } = server.address() as AddressInfo;
  return {
    url: new URL(`http://${host}:${boundPort}${API_PREFIX}`),
    histories,
    close: () => closeServer(server),
  };
}

/** The rules the real API enforces on this endpoint, with Laravel's wording. */
function validateHistory(
  input: Record<string, unknown>,
  challenges: Map<number, unknown>,
): Record<string, string[]> {
  const errors: Record<string, string[]> = {};
  for (const field of ['points', 'score'] as const) {
    if (input[field] === undefined || input[field] === null) errors[field] = [`The ${field} field is required.`];
    else if (typeof input[field] !== 'number') errors[field] = [`The ${field} field must be a number.`];
  }
  if (typeof input.points === 'number' && input.points < 0) errors.points = ['The points field must be at least 0.'];
  if (input.message !== undefined && typeof input.message !== 'string') errors.message = ['The message field must be a string.'];
  else if (typeof input.message === 'string' && input.message.length > 255) {
    errors.message = ['The message field must not be greater than 255 characters.'];
  }
  if (input.challenge_id !== undefined) {
    if (typeof input.challenge_id !== 'number' || !Number.isInteger(input.challenge_id)) {
      errors.challenge_id = ['The challenge id field must be an integer.'];
    } else if (!challenges.has(input.challenge_id)) {
      errors.challenge_id = ['The selected challenge id is invalid.'];
    }
  }
  return errors;
}

function laravelError(errors: Record<string, string[]>) {
  const messages = Object.values(errors).flat();
  const more = messages.length - 1;
  const suffix = more > 0 ? ` (and ${more} more error${more > 1 ? 's' : ''})` : '';
  return { message: `${messages[0]}${suffix}`, errors };
}

function readJsonBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.destroy(new Error('body too large'));
      else chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (size === 0) return resolve(undefined);
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        reject(error);
      }
    });
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
