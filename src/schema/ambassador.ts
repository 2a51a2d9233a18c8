import { builder } from './builder.js';
import { codedError } from '../errors/factory.js';
import { ErrorCode } from '../errors/registry.js';
import type { AmbassadorRecord } from '../upstream/types.js';

export const Ambassador = builder.objectRef<AmbassadorRecord>('Ambassador').implement({
  description: 'An ambassador, as the upstream returns it with a challenge history.',
  fields: (t) => ({
    id: t.exposeID('id', { nullable: false, description: "The upstream's id_ambassador." }),
    image: t.exposeString('image'),
    fullName: t.exposeString('fullName'),
    username: t.exposeString('username'),
    description: t.exposeString('description'),
    status: t.exposeInt('status'),
    availability: t.exposeString('availability'),
    unavailable: t.exposeBoolean('unavailable'),
    isAbsent: t.exposeBoolean('isAbsent'),
    absentMsg: t.exposeString('absentMsg'),
    fbAccount: t.exposeString('fbAccount'),
    twitterAccount: t.exposeString('twitterAccount'),
    instagramAccount: t.exposeString('instagramAccount'),
    linkedInAccount: t.exposeString('linkedInAccount'),
    youtubeAccount: t.exposeString('youtubeAccount'),
    online: t.exposeBoolean('online', { description: 'True when the last action was less than 5 minutes ago.' }),
    lastActionDate: t.exposeString('lastActionDate', { description: 'As the upstream formats it.' }),
  }),
});

// An entity other subgraphs can extend (e.g. with Ambassador.email), but one this subgraph only
// returns: the upstream has no endpoint to read an ambassador, so the key is resolvable: false and
// the router never asks this subgraph for an Ambassador by id. Its fields here are reachable only
// through addChallengeHistory's answer.
builder.asEntity(Ambassador, {
  key: builder.keyDirective(builder.selection<{ id: string }>('id'), false),
  // Never called by a router (the key is not resolvable); a hand-written _entities call gets this,
  // as a rejection, so that only that representation fails.
  resolveReference: async () => {
    throw codedError(ErrorCode.BAD_USER_INPUT, 'This subgraph cannot resolve Ambassador references: the upstream has no ambassador read endpoint.');
  },
});
