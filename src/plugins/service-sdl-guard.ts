// In production the subgraph's SDL (`_service { sdl }`) is the whole schema, introspection under
// another name. It answers only a federation router presenting ROUTER_SHARED_SECRET in
// x-router-secret when that is set, and nobody when introspection is off and no secret is set
// (compose from the subgraph SDL file instead). Development and test answer it to anyone.

import { createHash, timingSafeEqual } from 'node:crypto';
import { getOperationAST } from 'graphql';
import type { DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GatewayConfig } from '../app/config.js';
import { codedError } from '../errors/factory.js';
import { ErrorCode } from '../errors/registry.js';
import { rootFieldsOf } from '../schema/operation-walk.js';

export const ROUTER_SECRET_HEADER = 'x-router-secret';
export const SERVICE_FIELD = '_service';

// Equal-length digests, so the comparison takes the same time whatever was presented.
const digest = (value: string) => createHash('sha256').update(value).digest();

export function useServiceSdlGuard(config: Pick<GatewayConfig, 'nodeEnv' | 'introspection' | 'federation'>): Plugin[] {
  const secret = config.federation.routerSharedSecret;
  if (config.nodeEnv !== 'production' || (secret === null && config.introspection)) return [];
  const expected = secret === null ? null : digest(secret);
  const message =
    expected === null
      ? '_service is not served here (introspection is off and no ROUTER_SHARED_SECRET is set): compose from the subgraph SDL file.'
      : `_service is answered only to a router presenting the shared secret in ${ROUTER_SECRET_HEADER}.`;
  return [
    {
      onExecute({ args, setResultAndStopExecution }) {
        if (!selectsRootField(args.document, args.operationName ?? null, SERVICE_FIELD)) return;
        const presented = (args.contextValue as { request: Request }).request.headers.get(ROUTER_SECRET_HEADER);
        if (expected !== null && presented !== null && timingSafeEqual(digest(presented), expected)) return;
        setResultAndStopExecution({ errors: [codedError(ErrorCode.SERVICE_SDL_FORBIDDEN, message, { http: { status: 403 } })] });
      },
    },
  ];
}

/** Whether the operation that runs selects `field` at its root, through fragments too. */
export function selectsRootField(document: DocumentNode, operationName: string | null, field: string): boolean {
  const operation = getOperationAST(document, operationName);
  return !!operation && rootFieldsOf(document, operation).some(({ node }) => node.name.value === field);
}
