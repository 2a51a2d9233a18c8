// A second, small subgraph written for the federation tests: it extends this gateway's entities
// (Challenge.leaderboardPosition, Ambassador.email) and returns Challenge references of its own
// (Query.featuredChallenges), so a router must plan across both subgraphs, in both directions.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';

export const LEADERBOARD_SDL = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])

  type Challenge @key(fields: "id") {
    id: ID!
    "Rank of the challenge by completions this month."
    leaderboardPosition: Int
  }

  type Ambassador @key(fields: "id") {
    id: ID!
    email: String
  }

  type Query {
    "Challenges picked by the leaderboard team; only their ids are known here."
    featuredChallenges: [Challenge!]!
  }
`;

export function leaderboardPosition(challengeId: string): number {
  return Number(challengeId) * 10;
}

const leaderboardChallenge = (id: string) => ({ id, leaderboardPosition: leaderboardPosition(id) });

export function ambassadorEmail(ambassadorId: string): string {
  return `ambassador-${ambassadorId}@example.test`;
}

export interface LeaderboardSubgraph {
  url: URL;
  /** Headers of every request the router sent here. */
  requests: IncomingHttpHeaders[];
  /** Sets the ids featuredChallenges answers with (repeats allowed). */
  feature(ids: string[]): void;
  close(): Promise<void>;
}

export async function startLeaderboardSubgraph(): Promise<LeaderboardSubgraph> {
  const requests: IncomingHttpHeaders[] = [];
  let featured: string[] = [];
  const schema = buildSubgraphSchema({
    typeDefs: parse(LEADERBOARD_SDL),
    resolvers: {
      Query: { featuredChallenges: () => featured.map(leaderboardChallenge) },
      Challenge: { __resolveReference: ({ id }: { id: string }) => leaderboardChallenge(id) },
      Ambassador: { __resolveReference: ({ id }: { id: string }) => ({ id, email: ambassadorEmail(id) }) },
    },
  });
  const yoga = createYoga({ schema, logging: false, graphiql: false, landingPage: false });
  const server = createServer((req, res) => {
    requests.push(req.headers);
    void yoga(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/graphql`),
    requests,
    feature: (ids) => {
      featured = ids;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The names the supergraph gives the two subgraphs (and the router's header rule uses). */
export const SUBGRAPH_NAMES = { challenges: 'challenges', leaderboard: 'leaderboard' } as const;

/** Composes subgraph.graphql (as committed) with the leaderboard subgraph, as a router's build step would. */
export function composeSupergraph(urls: { challenges: string; leaderboard: string }) {
  const challengesSdl = readFileSync(new URL('../../subgraph.graphql', import.meta.url), 'utf8');
  return composeServices([
    { name: SUBGRAPH_NAMES.challenges, typeDefs: parse(challengesSdl), url: urls.challenges },
    { name: SUBGRAPH_NAMES.leaderboard, typeDefs: parse(LEADERBOARD_SDL), url: urls.leaderboard },
  ]);
}
