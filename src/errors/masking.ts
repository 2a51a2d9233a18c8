// The one mask of unexpected errors (anything that is not a GraphQLError the gateway coded), given
// to Yoga's public `maskedErrors` option and to the fast lane: Yoga's own mask, "Unexpected error."
// with no stack or detail, in every NODE_ENV (isDev off). Yoga logs what it hides.

import { maskError } from 'graphql-yoga';
import type { YogaMaskedErrorOpts } from 'graphql-yoga';

export const ERROR_MASKING: YogaMaskedErrorOpts = {
  maskError: (error, message) => maskError(error, message, false),
  errorMessage: 'Unexpected error.',
  isDev: false,
};
