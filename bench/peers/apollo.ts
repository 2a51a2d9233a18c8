// The usual hand-written alternative: Apollo Server 5 (standalone) + @apollo/datasource-rest,
// serving this gateway's schema (schema.graphql) for the bench document, with resolvers written
// the way its docs suggest. Run as its own process: PORT=... UPSTREAM_URL=... node apollo.js

import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { RESTDataSource } from '@apollo/datasource-rest';
import type { AugmentedRequest } from '@apollo/datasource-rest';
import { DateTimeResolver } from 'graphql-scalars';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

class ChallengeApi extends RESTDataSource {
  override baseURL = process.env.UPSTREAM_URL!.replace(/\/?$/, '/');

  constructor(private readonly token: string) {
    super();
  }

  protected override willSendRequest(_path: string, request: AugmentedRequest): void {
    request.headers.authorization = `Bearer ${this.token}`;
    request.headers.accept = 'application/json';
  }

  addChallengeHistory(ambassadorId: number, body: Json): Promise<Json> {
    return this.post(`manager/ambassadors/${ambassadorId}/challenge-histories`, { body });
  }
}

interface Context {
  dataSources: { api: ChallengeApi };
}

const i18n = (items: Json[]) => items.map((item) => ({ id: item.id_i18n_content, langCode: item.lang, content: item.content }));

const resolvers = {
  DateTime: DateTimeResolver,
  Locale: { EN_GB: 'en_GB', FR_FR: 'fr_FR', ES_ES: 'es_ES', DE_DE: 'de_DE' },
  AddChallengeHistoryResult: { __resolveType: (result: Json) => result.__typename },
  Error: { __resolveType: (result: Json) => result.__typename },
  Mutation: {
    addChallengeHistory: async (_: unknown, { ambassadorId, input }: Json, { dataSources }: Context) => {
      const body: Json = { points: input.points, score: input.score };
      if (input.message != null) body.message = input.message;
      if (input.challengeId != null) body.challenge_id = Number(input.challengeId);
      const h = await dataSources.api.addChallengeHistory(Number(ambassadorId), body);
      return { __typename: 'AddChallengeHistorySuccess', challengeHistory: h };
    },
  },
  ChallengeHistory: {
    createdAt: (h: Json) => h.created_at,
    updatedAt: (h: Json) => h.updated_at,
  },
  Ambassador: {
    id: (a: Json) => a.id_ambassador,
    fullName: (a: Json) => a.full_name,
    isAbsent: (a: Json) => a.is_absent,
    absentMsg: (a: Json) => a.absent_msg,
    fbAccount: (a: Json) => a.fb_account,
    twitterAccount: (a: Json) => a.twitter_account,
    instagramAccount: (a: Json) => a.instagram_account,
    linkedInAccount: (a: Json) => a.linkedIn_account,
    youtubeAccount: (a: Json) => a.youtube_account,
    lastActionDate: (a: Json) => a.last_action_date,
  },
  Challenge: {
    proportionalPoints: (c: Json) => c.proportional_points,
    nbWins: (c: Json) => c.nb_wins,
    titles: (c: Json) => i18n(c.titles),
    images: (c: Json) => i18n(c.images),
    descriptions: (c: Json) => i18n(c.descriptions),
  },
  I18nContent: { lang: (item: Json) => item.langCode },
};

const server = new ApolloServer<Context>({
  typeDefs: readFileSync(new URL('../../../schema.graphql', import.meta.url), 'utf8'),
  resolvers,
});
await startStandaloneServer(server, {
  listen: { port: Number(process.env.PORT), host: '127.0.0.1' },
  context: async ({ req }) => ({
    dataSources: { api: new ChallengeApi(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '') },
  }),
});
process.on('SIGTERM', () => process.exit(0));
