// The /v1 API over fetch with the session's token: JSON errors become ApiError, every call is logged for the "API calls" panel.

import { formatTXID } from './txid.ts';
import type { Point, QueryResult, Value } from './types.ts';

/** A non-2xx answer (`{error: {code, message, details}}`), or status 0 / code NETWORK when the server was not reached. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(status: number, code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** One call as the panel shows it; never the token. */
export interface CallRecord {
  method: string;
  path: string;
  /** HTTP status, 0 for a network failure. */
  status: number;
  ms: number;
}

/** How many calls the log keeps. */
export const CALL_LOG_SIZE = 50;
const calls: CallRecord[] = [];
const callListeners = new Set<() => void>();

/** The last CALL_LOG_SIZE calls of this page, newest first. */
export function callLog(): readonly CallRecord[] {
  return calls;
}

/** Calls `fn` after each call is logged; returns the unsubscribe function. */
export function onCall(fn: () => void): () => void {
  callListeners.add(fn);
  return () => callListeners.delete(fn);
}

function record(call: CallRecord): void {
  calls.unshift(call);
  calls.length = Math.min(calls.length, CALL_LOG_SIZE);
  for (const fn of callListeners) fn();
}

/** True for the rejection of a call whose AbortSignal fired. */
export function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'AbortError';
}

/** The ApiError of a non-2xx answer, from its JSON error body when it has one. */
export async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    const { error } = JSON.parse(text) as { error: { code: string; message: string; details?: Record<string, unknown> } };
    return new ApiError(res.status, error.code, error.message, error.details);
  } catch {
    return new ApiError(res.status, `HTTP_${res.status}`, text.slice(0, 200) || res.statusText);
  }
}

/** An error as the console shows it: `CODE: message`. */
export function errorText(e: unknown): string {
  return e instanceof ApiError ? `${e.code}: ${e.message}` : String((e as Error).message ?? e);
}

/** `/v1/databases/<db><rest>` with the name encoded. */
export function dbPath(db: string, rest = ''): string {
  return `/v1/databases/${encodeURIComponent(db)}${rest}`;
}

/** How a request names its point on the wire: `txid` or `at`, neither for the head. */
export interface PointFields {
  txid?: string;
  at?: string;
}

/** The fields that select `point`: `at` when it was chosen by time, else its TXID. */
export function pointFields(point: Point): PointFields {
  if (point === null) return {};
  return point.at !== undefined ? { at: point.at } : { txid: formatTXID(point.txid) };
}

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** The API as one token sees it. */
export class Api {
  private readonly token: string;

  constructor(token: string) {
    this.token = token;
  }

  /** The raw answer, whatever its status (streams read it); logged when its headers arrive. */
  async fetch(method: string, path: string, opts: CallOptions = {}): Promise<Response> {
    const headers = new Headers(opts.headers);
    headers.set('authorization', `Bearer ${this.token}`);
    if (opts.body !== undefined) headers.set('content-type', 'application/json');
    const start = performance.now();
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    try {
      const res = await fetch(path, { method, headers, body, signal: opts.signal, cache: 'no-store' });
      record({ method, path, status: res.status, ms: Math.round(performance.now() - start) });
      return res;
    } catch (e) {
      if (isAbort(e)) throw e;
      record({ method, path, status: 0, ms: Math.round(performance.now() - start) });
      throw new ApiError(0, 'NETWORK', `the server could not be reached (${(e as Error).message})`);
    }
  }

  /** A JSON call; throws ApiError for anything but 2xx. */
  async json<T>(method: string, path: string, opts: CallOptions = {}): Promise<T> {
    const res = await this.fetch(method, path, opts);
    if (!res.ok) throw await errorOf(res);
    return (await res.json()) as T;
  }

  /** POST …/query: one read-only statement at `where` (pointFields; {} = head). */
  query(db: string, sql: string, where: PointFields, params?: Value[], signal?: AbortSignal): Promise<QueryResult> {
    return this.json<QueryResult>('POST', dbPath(db, '/query'), { body: { sql, ...(params ? { params } : {}), ...where }, signal });
  }
}
