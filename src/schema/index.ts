// schema/: the GraphQL schema (Pothos): the builder, the resolvers' context, one file per type.
//
// Importing a domain module registers its types and fields on the builder.
import { builder } from './builder.js';
import './errors.js';
import './i18n-content.js';
import './ambassador.js';
import './challenge.js';
import './challenge-history.js';
import { reservingUpstreamCalls } from './upstream-calls.js';

/** The client-facing schema: what schema.graphql shows, without federation's fields and directives. */
export const schema = builder.toSchema({ sortSchema: true });

/**
 * What the gateway serves: the same schema plus _service and _entities, with the federation
 * directives a router composes (printed to subgraph.graphql). Each root field first reserves its
 * operation's upstream calls from the request's budget.
 */
export const subgraphSchema = reservingUpstreamCalls(
  builder.toSubGraphSchema({
    // Pinned, so that upgrading the plugin cannot silently change the composed supergraph.
    linkUrl: 'https://specs.apollo.dev/federation/v2.6',
    sortSchema: true,
  }),
);
