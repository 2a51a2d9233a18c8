// The floor: what this job costs with no GraphQL at all. node:http + an undici Pool; reads the
// GraphQL request's variables, makes the same upstream POST and writes the same camelCase JSON the
// gateway answers for each bench document (chosen by its operationName). No gateway doing this job can beat it.
// Run as its own process: PORT=... UPSTREAM_URL=http://127.0.0.1:N/api/v2 node floor.js

import { createServer } from 'node:http';
import { Pool } from 'undici';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const port = Number(process.env.PORT);
const upstreamUrl = new URL(process.env.UPSTREAM_URL!);
const basePath = upstreamUrl.pathname.replace(/\/+$/, '');
const pool = new Pool(upstreamUrl.origin, { connections: 64, pipelining: 1, keepAliveTimeout: 4_000 });

const i18n = (items: Json[]) =>
  items.map((item) => ({ id: String(item.id_i18n_content), lang: item.lang.toUpperCase(), langCode: item.lang, content: item.content }));
const isoDate = (value: string) => new Date(value).toISOString();

function camelCase(h: Json): Json {
  const a = h.ambassador;
  const c = h.challenge;
  return {
    __typename: 'AddChallengeHistorySuccess',
    challengeHistory: {
      id: String(h.id),
      message: h.message,
      score: h.score,
      points: h.points,
      createdAt: isoDate(h.created_at),
      updatedAt: isoDate(h.updated_at),
      ambassador: {
        id: String(a.id_ambassador),
        image: a.image,
        fullName: a.full_name,
        username: a.username,
        description: a.description,
        status: a.status,
        availability: a.availability,
        unavailable: a.unavailable,
        isAbsent: a.is_absent,
        absentMsg: a.absent_msg,
        fbAccount: a.fb_account,
        twitterAccount: a.twitter_account,
        instagramAccount: a.instagram_account,
        linkedInAccount: a.linkedIn_account,
        youtubeAccount: a.youtube_account,
        online: a.online,
        lastActionDate: a.last_action_date,
      },
      challenge: {
        id: String(c.id),
        points: c.points,
        proportionalPoints: c.proportional_points,
        nbWins: c.nb_wins,
        titles: i18n(c.titles),
        images: i18n(c.images),
        descriptions: i18n(c.descriptions),
      },
    },
  };
}

// operationName -> the part of the full answer that bench document selects.
const SELECTIONS: Record<string, (full: Json) => Json> = {
  Add: (full) => full,
  AddSmall: ({ __typename, challengeHistory: { id, points } }) => ({ __typename, challengeHistory: { id, points } }),
};

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', async () => {
    try {
      const { variables, operationName } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const { ambassadorId, input } = variables;
      const select = SELECTIONS[operationName]!;
      const body: Json = { points: input.points, score: input.score };
      if (input.message != null) body.message = input.message;
      if (input.challengeId != null) body.challenge_id = Number(input.challengeId);
      const response = await pool.request({
        method: 'POST',
        path: `${basePath}/manager/ambassadors/${Number(ambassadorId)}/challenge-histories`,
        headers: { accept: 'application/json', 'content-type': 'application/json', authorization: req.headers.authorization ?? '' },
        body: JSON.stringify(body),
      });
      const record = (await response.body.json()) as Json;
      const text = JSON.stringify({ data: { addChallengeHistory: select(camelCase(record)) } });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
    } catch {
      res.writeHead(500).end();
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
