import { builder } from './builder.js';
import { I18nContent, Locale, pickContent } from './i18n-content.js';
import { upstreamIdArgument } from './ids.js';
import type { ChallengeRecord, I18nContentRecord } from '../upstream/types.js';

export const Challenge = builder.objectRef<ChallengeRecord>('Challenge').implement({
  description: 'A challenge ambassadors complete to win points.',
  fields: (t) => {
    // title(lang:), description(lang:), image(lang:) share one shape over three lists.
    const localized = (list: (challenge: ChallengeRecord) => I18nContentRecord[], what: string) =>
      t.string({
        description: `The ${what} in \`lang\`, else in en_GB, else the first one. Without \`lang\`: en_GB, else the first.`,
        args: { lang: t.arg({ type: Locale }) },
        resolve: (challenge, { lang }) => pickContent(list(challenge), lang),
      });
    const i18nList = (list: (challenge: ChallengeRecord) => I18nContentRecord[]) =>
      t.field({ type: [I18nContent], nullable: false, resolve: list });
    return {
      id: t.exposeID('id', { nullable: false }),
      titles: i18nList((c) => c.titles),
      images: i18nList((c) => c.images),
      descriptions: i18nList((c) => c.descriptions),
      title: localized((c) => c.titles, 'title'),
      description: localized((c) => c.descriptions, 'description'),
      image: localized((c) => c.images, 'image URL'),
      points: t.exposeFloat('points'),
      proportionalPoints: t.exposeBoolean('proportionalPoints'),
      nbWins: t.exposeInt('nbWins', {
        description: 'How many times it was won. Only known on a challenge returned by addChallengeHistory.',
      }),
      startDate: t.expose('startDate', { type: 'DateTime', description: 'Only known on Query.challenge.' }),
      endDate: t.expose('endDate', { type: 'DateTime', description: 'Only known on Query.challenge.' }),
      active: t.exposeBoolean('active', { description: 'Only known on Query.challenge.' }),
      challengeableType: t.exposeString('challengeableType', { description: 'Only known on Query.challenge.' }),
      challengeable: t.expose('challengeable', {
        type: 'JSONObject',
        description: 'What completing the challenge means; its shape depends on challengeableType. Only known on Query.challenge.',
      }),
    };
  },
});

builder.asEntity(Challenge, {
  key: builder.selection<{ id: string }>('id'),
  // Every challenge read goes through the request's loader: repeated ids cost one upstream GET. Async, so
  // that a refused id rejects its own representation only, not the whole _entities list.
  resolveReference: async ({ id }, ctx) => ctx.api.challenge(upstreamIdArgument(id)),
});

builder.queryField('challenge', (t) =>
  t.field({
    type: Challenge,
    description: 'One challenge, or null when the upstream does not know the id. Needs a bearer token.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => ctx.api.challenge(upstreamIdArgument(args.id)),
  }),
);
