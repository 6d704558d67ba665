// Result objects the DatabaseDO returns over RPC: expected failures travel as data (custom errors don't survive RPC).

import { formatHex64, type LTXError, formatTXID } from '../ltx/index.ts';
import type { ErrorCode, ErrorDetails } from '../errors.ts';

import type { PosJSON } from '../api/wire.ts';

export type { PosJSON };

export function posJSON(txid: bigint, checksum: bigint): PosJSON {
  return { txid: formatTXID(txid), postApplyChecksum: formatHex64(checksum) };
}

export interface RpcError {
  code: ErrorCode;
  message: string;
  details?: ErrorDetails;
}

export type RpcResult<T> = { ok: true; status: 200 | 201; value: T } | { ok: false; error: RpcError };

export function ok<T>(value: T, status: 200 | 201 = 200): RpcResult<T> {
  return { ok: true, status, value };
}

export function err<T = never>(code: ErrorCode, message: string, details?: ErrorDetails): RpcResult<T> {
  return { ok: false, error: details === undefined ? { code, message } : { code, message, details } };
}

/** A codec rejection of client bytes: 422 INVALID_LTX with the codec's code. */
export function ltxErr<T = never>(e: LTXError): RpcResult<T> {
  return err('INVALID_LTX', e.message, { ltxCode: e.code });
}
