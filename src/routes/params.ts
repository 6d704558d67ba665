// Parsing and validation of path and query values shared by the routes: names, TXIDs, levels, ranges.

import type { Context } from 'hono';
import { isValidDatabaseName } from '../config.ts';
import { SNAPSHOT_LEVEL } from '../ltx/constants.ts';
import { ApiError } from '../errors.ts';

/** The `:db` path parameter, or 400 INVALID_NAME (DESIGN §2: `^[a-z0-9][a-z0-9._-]{0,62}$`, no `..`). */
export function dbName(c: Context): string {
  const name = c.req.param('db') ?? '';
  if (!isValidDatabaseName(name)) throw new ApiError('INVALID_NAME', `invalid database name ${JSON.stringify(name.slice(0, 80))}`);
  return name;
}

/** A TXID query value: 1–16 lowercase hex digits (the wire form is 16). */
export function parseTXIDParam(name: string, value: string | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9a-f]{1,16}$/.test(value)) throw new ApiError('BAD_REQUEST', `${name} must be a TXID in hex, got ${JSON.stringify(value.slice(0, 40))}`);
  return BigInt('0x' + value);
}

/** A non-negative decimal integer query value within [min, max]. */
export function parseIntParam(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,10}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ApiError('BAD_REQUEST', `${name} must be an integer from ${min} to ${max}`);
  }
  return Number(value);
}

/** A level: 0..9, written in hex like the key layout (`0000`, `9`, `0009`). */
export function parseLevel(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9a-f]{1,4}$/.test(value) || parseInt(value, 16) > SNAPSHOT_LEVEL) {
    throw new ApiError('BAD_REQUEST', `level must be 0..${SNAPSHOT_LEVEL}`);
  }
  return parseInt(value, 16);
}

/** `<min 16 hex>-<max 16 hex>.ltx`, exactly (ltx.ParseFilename). */
export function parseLtxFilename(file: string): { minTXID: bigint; maxTXID: bigint } {
  const m = /^([0-9a-f]{16})-([0-9a-f]{16})\.ltx$/.exec(file);
  if (!m) throw new ApiError('BAD_REQUEST', 'file must be <min>-<max>.ltx with 16 lowercase hex digits each');
  const minTXID = BigInt('0x' + m[1]);
  const maxTXID = BigInt('0x' + m[2]);
  if (minTXID < 1n || maxTXID < minTXID) throw new ApiError('BAD_REQUEST', 'invalid TXID range in file name');
  return { minTXID, maxTXID };
}

export type ParsedRange = { offset: number; length?: number } | { suffix: number };

/**
 * One `Range: bytes=…` range (first-last, first-, -suffix); undefined without the header or with a
 * unit other than bytes, which RFC 9110 §14.2 says to ignore (units are case-insensitive). Multiple ranges: 416.
 */
export function parseRange(header: string | undefined): ParsedRange | undefined {
  if (header === undefined) return undefined;
  const eq = header.indexOf('=');
  if (eq > 0 && header.slice(0, eq).trim().toLowerCase() !== 'bytes') return undefined;
  const m = /^bytes=(\d{0,15})-(\d{0,15})$/i.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) throw new ApiError('RANGE_NOT_SATISFIABLE', `unsupported Range ${JSON.stringify(header.slice(0, 60))}`);
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) throw new ApiError('RANGE_NOT_SATISFIABLE', 'empty suffix range');
    return { suffix };
  }
  const offset = Number(m[1]);
  if (m[2] === '') return { offset };
  const last = Number(m[2]);
  if (last < offset) throw new ApiError('RANGE_NOT_SATISFIABLE', 'range ends before it starts');
  return { offset, length: last - offset + 1 };
}
