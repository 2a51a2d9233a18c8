// errors/: every error code (registry.ts), the one factory of GraphQL errors, and how each layer's failures map to codes.
//
// The one way the gateway makes a GraphQL error: a code from the registry (src/errors/registry.ts),
// the message a client reads, and the extensions that code promises (outcomeUnknown, retryAfter...).
// `code` always comes first in extensions, so every answer's errors read alike.

import { GraphQLError } from 'graphql';
import type { ASTNode } from 'graphql';
import type { ErrorCode } from './registry.js';

export interface CodedErrorOptions {
  /** Where in the document it applies (a refused field or argument). */
  nodes?: ASTNode | readonly ASTNode[];
  /** The error it stands for: kept for logs and spans, never shown to the client. */
  originalError?: Error;
}

export function codedError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}, options: CodedErrorOptions = {}): GraphQLError {
  // Object.assign keeps `code` the first key, and the registry's code wins over one in `extensions`.
  return new GraphQLError(message, { ...options, extensions: Object.assign({ code }, extensions, { code }) });
}
