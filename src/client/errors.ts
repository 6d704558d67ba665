// Typed failures of the Node client library: local refusals (ClientError) and a lost write race (ConflictError).

import type { PosJSON } from '../api/wire.ts';
import { ApiClientError } from '../remote/http-client.ts';

export type ClientErrorCode =
  /** An option or argument is malformed (negative TXID, both txid and at, a page number out of range…). */
  | 'BAD_REQUEST'
  /** The view is pinned to a TXID (opened with txid/at, or made by at()): it neither follows the head nor writes. */
  | 'PINNED'
  /** The database was closed. */
  | 'CLOSED'
  /** The server answered something inconsistent (a page at another TXID than asked, a missing page 1…). */
  | 'BAD_RESPONSE'
  /** A statement inside a write transaction failed; `details.sqliteCode` is SQLite's extended result code. */
  | 'SQL_ERROR'
  /** A write transaction needed more fetch rounds than allowed. */
  | 'TOO_MANY_ROUNDS';

/** A failure the client detects itself, before or without the server. Server errors stay ApiClientError. */
export class ClientError extends Error {
  readonly code: ClientErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ClientErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'ClientError';
    this.code = code;
    this.details = details;
  }
}

/**
 * A write transaction lost the race: its base TXID was no longer the head when it reached the server
 * (409 CONFLICT, DESIGN §4). Nothing was applied, on the server or locally; `pos` is the server's head.
 * Refresh and run the transaction again.
 */
export class ConflictError extends ApiClientError {
  /** The TXID the transaction read at. */
  readonly base: bigint;
  /** The head the server reported, when it did. */
  readonly pos: PosJSON | undefined;

  constructor(base: bigint, cause: ApiClientError) {
    super(cause.status, 'CONFLICT', cause.message, cause.details, { cause });
    this.name = 'ConflictError';
    this.base = base;
    const pos = cause.details?.pos as PosJSON | undefined;
    this.pos = pos && typeof pos.txid === 'string' ? pos : undefined;
  }

  /** The server's head TXID, when it reported one. */
  get headTXID(): bigint | undefined {
    return this.pos ? BigInt('0x' + this.pos.txid) : undefined;
  }
}
