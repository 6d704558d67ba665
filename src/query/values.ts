// SQLite values ↔ JSON for the query API: result columns out, statement parameters in.

import * as SQLite from '@journeyapps/wa-sqlite/src/sqlite-constants.js';
import { QueryError } from './query-error.ts';
import type { SqliteModule } from './sqlite-module.ts';

/**
 * A result value on the wire. JSON cannot carry every SQLite value exactly, so:
 * - INTEGER: a JSON number when it is a safe integer (|v| ≤ 2^53 − 1), else its decimal string
 *   (`"9223372036854775807"`; parse it with BigInt);
 * - REAL: a JSON number; ±Infinity (e.g. `1e999`) as the strings `"Infinity"` / `"-Infinity"`;
 * - TEXT: a JSON string (invalid UTF-8 decoded with U+FFFD);
 * - BLOB: `{"base64": "<standard base64>"}`;
 * - NULL: null.
 */
export type ResultValue = null | number | string | { base64: string };

/**
 * A parameter on the wire: null, a boolean (bound as 1 / 0), a number (a safe integer binds as
 * INTEGER, anything else as REAL), a string (TEXT), `{"base64": "…"}` (BLOB) or
 * `{"integer": "<decimal>"}` (a 64-bit INTEGER beyond 2^53).
 */
export type ParamValue = null | boolean | number | string | { base64: string } | { integer: string };

/** Statement parameters: positional (`?`, `?NNN` = index NNN) or named (`:name`, `@name`, `$name`; keys with or without the prefix). */
export type Params = ParamValue[] | Record<string, ParamValue>;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const TWO_32 = 0x1_0000_0000;
/** SQLITE_TRANSIENT: SQLite copies the bound bytes, so the caller may free them at once. */
const SQLITE_TRANSIENT = -1;
const utf8Decoder = new TextDecoder();
const utf8Encoder = new TextEncoder();

/** Column `i` of the current row, and an estimate of its JSON size in bytes. */
export function readColumn(mod: SqliteModule, stmt: number, i: number): { value: ResultValue; size: number } {
  switch (mod._sqlite3_column_type(stmt, i)) {
    case SQLite.SQLITE_INTEGER: {
      const lo = mod._sqlite3_column_int64(stmt, i);
      const hi = mod.getTempRet0();
      const value = int64(lo, hi);
      return { value, size: typeof value === 'number' ? 20 : value.length + 2 };
    }
    case SQLite.SQLITE_FLOAT: {
      const v = mod._sqlite3_column_double(stmt, i);
      if (Number.isFinite(v)) return { value: v, size: 24 };
      return { value: v > 0 ? 'Infinity' : '-Infinity', size: 11 };
    }
    case SQLite.SQLITE_TEXT: {
      const ptr = mod._sqlite3_column_text(stmt, i);
      const n = mod._sqlite3_column_bytes(stmt, i);
      const value = n === 0 ? '' : utf8Decoder.decode(mod.HEAPU8.subarray(ptr, ptr + n));
      return { value, size: n + 2 };
    }
    case SQLite.SQLITE_BLOB: {
      const ptr = mod._sqlite3_column_blob(stmt, i);
      const n = mod._sqlite3_column_bytes(stmt, i);
      const base64 = n === 0 ? '' : encodeBase64(mod.HEAPU8.subarray(ptr, ptr + n));
      return { value: { base64 }, size: base64.length + 14 };
    }
    default:
      return { value: null, size: 4 };
  }
}

/** The int64 (lo, hi) halves as a number when safe, else as a decimal string. */
function int64(lo: number, hi: number): number | string {
  // Safe when hi is within ±2^21 (2^53 = 2^21 · 2^32), leaving the exact boundary cases to BigInt.
  if (hi >= -0x200000 && hi < 0x200000) {
    const v = hi * TWO_32 + (lo >>> 0);
    if (Number.isSafeInteger(v)) return v;
  }
  return ((BigInt(hi) << 32n) | BigInt(lo >>> 0)).toString();
}

/**
 * Binds `params` to `stmt`; QueryError BAD_REQUEST when they do not match its parameters:
 * an array must have exactly one value per parameter index; an object a value for every named
 * parameter and no other keys. Returns SQLite's result code of the first failing bind (0 = all bound).
 */
export function bindParams(mod: SqliteModule, stmt: number, params: Params | undefined): number {
  const count = mod._sqlite3_bind_parameter_count(stmt);
  if (params === undefined) {
    if (count > 0) throw new QueryError('BAD_REQUEST', `the statement has ${count} parameter(s) and params is missing`);
    return SQLite.SQLITE_OK;
  }
  if (Array.isArray(params)) {
    if (params.length !== count)
      throw new QueryError('BAD_REQUEST', `the statement has ${count} parameter(s), params has ${params.length} value(s)`);
    for (let i = 1; i <= count; i++) {
      const rc = bindValue(mod, stmt, i, params[i - 1], `params[${i - 1}]`);
      if (rc !== SQLite.SQLITE_OK) return rc;
    }
    return SQLite.SQLITE_OK;
  }
  const used = new Set<string>();
  for (let i = 1; i <= count; i++) {
    const ptr = mod._sqlite3_bind_parameter_name(stmt, i);
    const name = ptr === 0 ? '' : mod.UTF8ToString(ptr);
    if (name === '' || name.startsWith('?')) throw new QueryError('BAD_REQUEST', `parameter ${i} is positional: pass params as an array`);
    const bare = name.slice(1);
    const key = Object.hasOwn(params, name) ? name : Object.hasOwn(params, bare) ? bare : undefined;
    if (key === undefined) throw new QueryError('BAD_REQUEST', `params has no value for ${name}`);
    used.add(key);
    const rc = bindValue(mod, stmt, i, params[key], `params.${key}`);
    if (rc !== SQLite.SQLITE_OK) return rc;
  }
  const extra = Object.keys(params).filter((k) => !used.has(k));
  if (extra.length > 0) throw new QueryError('BAD_REQUEST', `params has keys the statement does not use: ${extra.slice(0, 5).join(', ')}`);
  return SQLite.SQLITE_OK;
}

function bindValue(mod: SqliteModule, stmt: number, i: number, v: unknown, where: string): number {
  if (v === null) return mod._sqlite3_bind_null(stmt, i);
  if (typeof v === 'boolean') return mod._sqlite3_bind_int64(stmt, i, v ? 1 : 0, 0);
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return bindInt64(mod, stmt, i, BigInt(v));
    if (Number.isFinite(v)) return mod._sqlite3_bind_double(stmt, i, v);
    throw new QueryError('BAD_REQUEST', `${where} is not a finite number`);
  }
  if (typeof v === 'string')
    return withBytes(mod, utf8Encoder.encode(v), (ptr, n) => mod._sqlite3_bind_text(stmt, i, ptr, n, SQLITE_TRANSIENT));
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && typeof o.base64 === 'string') {
      const bytes = decodeBase64(o.base64);
      if (bytes === undefined) throw new QueryError('BAD_REQUEST', `${where}.base64 is not valid base64`);
      return withBytes(mod, bytes, (ptr, n) => mod._sqlite3_bind_blob(stmt, i, ptr, n, SQLITE_TRANSIENT));
    }
    if (keys.length === 1 && typeof o.integer === 'string' && /^-?\d{1,20}$/.test(o.integer)) {
      const n = BigInt(o.integer);
      if (n >= INT64_MIN && n <= INT64_MAX) return bindInt64(mod, stmt, i, n);
    }
  }
  throw new QueryError(
    'BAD_REQUEST',
    `${where} must be null, a boolean, a number, a string, {"base64": "…"} or {"integer": "<64-bit decimal>"}`,
  );
}

function bindInt64(mod: SqliteModule, stmt: number, i: number, n: bigint): number {
  const u = BigInt.asUintN(64, n);
  return mod._sqlite3_bind_int64(stmt, i, Number(u & 0xffffffffn) | 0, Number(u >> 32n) | 0);
}

/** Copies `bytes` into the wasm heap for the duration of `use` (SQLITE_TRANSIENT binds copy them). */
function withBytes(mod: SqliteModule, bytes: Uint8Array, use: (ptr: number, n: number) => number): number {
  const ptr = mod._sqlite3_malloc(Math.max(1, bytes.length));
  if (ptr === 0) return SQLite.SQLITE_NOMEM;
  try {
    mod.HEAPU8.set(bytes, ptr);
    return use(ptr, bytes.length);
  } finally {
    mod._sqlite3_free(ptr);
  }
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_CODES = new Uint8Array(128);
for (let i = 0; i < B64.length; i++) B64_CODES[B64.charCodeAt(i)] = i;

/** Standard base64 with padding. */
export function encodeBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  let chunk = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    chunk += B64[n >> 18] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + B64[n & 63];
    if (chunk.length >= 8192) {
      parts.push(chunk);
      chunk = '';
    }
  }
  const rest = bytes.length - i;
  if (rest === 1) chunk += B64[bytes[i] >> 2] + B64[(bytes[i] & 3) << 4] + '==';
  if (rest === 2) {
    const n = (bytes[i] << 8) | bytes[i + 1];
    chunk += B64[n >> 10] + B64[(n >> 4) & 63] + B64[(n & 15) << 2] + '=';
  }
  parts.push(chunk);
  return parts.join('');
}

/** Standard base64 (padding optional, no whitespace) → bytes, or undefined when malformed. */
export function decodeBase64(text: string): Uint8Array | undefined {
  const s = text.endsWith('==') ? text.slice(0, -2) : text.endsWith('=') ? text.slice(0, -1) : text;
  if (s.length % 4 === 1 || !/^[A-Za-z0-9+/]*$/.test(s)) return undefined;
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const a = B64_CODES[s.charCodeAt(i)];
    const b = B64_CODES[s.charCodeAt(i + 1)];
    const c = i + 2 < s.length ? B64_CODES[s.charCodeAt(i + 2)] : 0;
    const d = i + 3 < s.length ? B64_CODES[s.charCodeAt(i + 3)] : 0;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >> 16;
    if (i + 2 < s.length) out[o++] = (n >> 8) & 255;
    if (i + 3 < s.length) out[o++] = n & 255;
  }
  return out;
}
