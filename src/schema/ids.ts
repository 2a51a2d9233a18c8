import { codedError } from '../errors/factory.js';
import { ErrorCode } from '../errors/registry.js';
import { INVALID_ID_MESSAGE, parseUpstreamId } from '../upstream/ids.js';

/** An id argument of a read as the upstream id it names; BAD_USER_INPUT, before any call, when it is not a positive int32. */
export function upstreamIdArgument(value: string | number, argumentName = 'id'): number {
  const id = parseUpstreamId(value);
  if (id === null) {
    throw codedError(ErrorCode.BAD_USER_INPUT, `${argumentName} ${INVALID_ID_MESSAGE}.`, { argumentName });
  }
  return id;
}
