// DO RPC results in routes: expected failures arrive as data and leave as typed API errors.

import type { Context } from 'hono';
import type { RpcResult } from '../durable/rpc-result.ts';
import type { AppEnv } from '../env.ts';
import { ApiError } from '../errors.ts';

/** The value of an RPC result, or its typed error thrown as an ApiError. */
export function unwrap<T>(result: RpcResult<T>): T {
  if (!result.ok) throw new ApiError(result.error.code, result.error.message, result.error.details);
  return result.value;
}

/** Answers an RPC result: the value as JSON with its status, or the typed error. */
export function rpcResponse<T>(c: Context<AppEnv>, result: RpcResult<T>, wrap: (v: T) => unknown = (v) => v): Response {
  if (!result.ok) throw new ApiError(result.error.code, result.error.message, result.error.details);
  return c.json(wrap(result.value) as object, result.status);
}
