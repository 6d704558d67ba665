// Points a caller may give the client (a TXID or a time, in several forms) as the wire's ReadPoint, validated locally.

import type { ReadPoint } from '../api/wire.ts';
import { ClientError } from './errors.ts';

/** A point to read at: a TXID (bigint, number, or 1–16 hex digits) or a time (Date, RFC3339, or relative such as "5 minutes ago"). */
export type PointInput = bigint | number | string | Date;

const HEX_TXID = /^[0-9a-fA-F]{1,16}$/;

/** True when `v` names a TXID rather than a time (a string of 1–16 hex digits counts as a TXID). */
export function isTXIDInput(v: PointInput): boolean {
  return typeof v === 'bigint' || typeof v === 'number' || (typeof v === 'string' && HEX_TXID.test(v));
}

/** A point option as the wire's ReadPoint; BAD_REQUEST for a malformed TXID (negative, 0, beyond 64 bits) or time. */
export function parsePoint(v: PointInput, kind: 'txid' | 'at'): ReadPoint {
  if (kind === 'at') {
    if (v instanceof Date) {
      if (Number.isNaN(v.getTime())) throw new ClientError('BAD_REQUEST', 'at is an invalid Date');
      return { at: v.toISOString() };
    }
    if (typeof v !== 'string' || v.trim() === '')
      throw new ClientError('BAD_REQUEST', 'at must be a Date, an RFC3339 time or a relative time such as "5 minutes ago"');
    return { at: v.trim() };
  }
  let txid: bigint;
  if (typeof v === 'bigint') txid = v;
  else if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new ClientError('BAD_REQUEST', `txid must be an integer, got ${v}`);
    txid = BigInt(v);
  } else if (typeof v === 'string' && HEX_TXID.test(v)) txid = BigInt('0x' + v);
  else throw new ClientError('BAD_REQUEST', `txid must be a bigint, a number or 1–16 hex digits, got ${String(v)}`);
  if (txid < 1n || txid >= 1n << 64n) throw new ClientError('BAD_REQUEST', `txid must be from 1 to 2^64 − 1, got ${txid}`);
  return { txid };
}
