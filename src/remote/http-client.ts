// A small fetch-based client for the ltx-edge HTTP API (DESIGN §4): bearer auth, typed JSON errors, streamed bodies, retries. No CLI concerns: arguments and usage live in src/cli.

import { formatTXID } from '../ltx/index.ts';
import { type BatchPage, decodePageBatch, encodePageBatch, formatPgnoList } from '../replication/page-batch.ts';
import { VERSION } from '../version.ts';
import { type ChangesJSON, type DatabaseInfoJSON, MAX_BATCH_PAGES, type PosJSON, type ReadPoint } from '../api/wire.ts';

/** Retries after the first attempt, for network errors, 429 and 5xx (except 501). */
export const DEFAULT_RETRIES = 4;
/** First backoff delay in milliseconds; doubles per retry (±20% jitter), capped at MAX_RETRY_DELAY_MS. */
export const DEFAULT_RETRY_DELAY_MS = 250;
/** Longest wait between two attempts, milliseconds, also for a server's Retry-After. */
export const MAX_RETRY_DELAY_MS = 8_000;

/**
 * A failed API call. `status` is the HTTP status, or 0 when no answer came (code NETWORK_ERROR);
 * `code` is the server's SCREAMING_SNAKE code, or HTTP_<status> when the body was not the JSON error shape.
 */
export class ApiClientError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(status: number, code: string, message: string, details?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ApiClientError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** Where the server is and who we are. */
export interface ClientConfig {
  /** Base URL, e.g. `http://localhost:8787` (a path prefix is kept). */
  url: string;
  /** Bearer token; undefined sends no Authorization header. */
  token: string | undefined;
}

/** A request body, made afresh for each attempt (`attempt` counts from 1), so retries can resend it. */
export type BodySource = (attempt: number) => ReadableStream<Uint8Array> | Uint8Array | string;

export interface RequestOptions {
  body?: BodySource;
  headers?: Record<string, string>;
  /** Retry network errors and 5xx. Default: true for GET and HEAD; writes opt in when they are idempotent. */
  retry?: boolean;
  signal?: AbortSignal;
}

/** What `onRetry` hears before each wait. */
export interface RetryInfo {
  method: string;
  path: string;
  /** The attempt that failed, from 1. */
  attempt: number;
  /** Attempts in all (retries + 1). */
  attempts: number;
  delayMs: number;
  error: ApiClientError;
}

export interface ClientOptions {
  retries?: number;
  retryDelayMs?: number;
  /** Told before each retry (the CLI prints a line on stderr). */
  onRetry?: (info: RetryInfo) => void;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

/** The ltx-edge API over fetch (Node's undici). Non-2xx answers become ApiClientError. */
export class ApiClient {
  readonly config: ClientConfig;
  private readonly base: string;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly onRetry: ((info: RetryInfo) => void) | undefined;
  private readonly fetchFn: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(config: ClientConfig, opts: ClientOptions = {}) {
    this.config = config;
    this.base = config.url.endsWith('/') ? config.url : config.url + '/';
    this.retries = opts.retries ?? DEFAULT_RETRIES;
    this.retryDelayMs = opts.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
    this.onRetry = opts.onRetry;
    this.fetchFn = opts.fetch ?? fetch;
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Absolute URL of an API path such as `/v1/databases`. */
  urlOf(path: string): string {
    return new URL(path.replace(/^\/+/, ''), this.base).href;
  }

  /**
   * One call, retried with backoff when allowed. Resolves to the 2xx Response (body unread);
   * throws ApiClientError for any other status or when the server cannot be reached, and the body's
   * own error (e.g. a file read error) unchanged — those are never retried.
   */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const retry = opts.retry ?? (method === 'GET' || method === 'HEAD');
    const attempts = retry ? this.retries + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      let error: ApiClientError;
      let retryAfterMs: number | undefined;
      try {
        const { res, release } = await this.attempt(method, path, opts, attempt);
        if (res.ok) return res;
        try {
          error = await errorFromResponse(res);
        } finally {
          // An error may come before the server read the whole body (409 on the header alone): stop
          // sending only now, since cancelling the upload earlier would also cut off the error's body.
          release();
        }
        retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
      } catch (e) {
        if (!(e instanceof NetworkFailure)) throw e;
        error = e.error;
      }
      if (attempt >= attempts || !isRetryable(error)) throw error;
      const backoff = this.retryDelayMs * 2 ** (attempt - 1) * (0.8 + 0.4 * Math.random());
      const delayMs = Math.round(Math.min(MAX_RETRY_DELAY_MS, retryAfterMs ?? backoff));
      this.onRetry?.({ method, path, attempt, attempts, delayMs, error });
      await this.sleep(delayMs);
    }
  }

  /** A call whose 2xx answer is JSON. */
  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<{ status: number; body: T }> {
    const res = await this.request(method, path, opts);
    const text = await res.text();
    try {
      return { status: res.status, body: JSON.parse(text) as T };
    } catch {
      throw new ApiClientError(res.status, 'BAD_RESPONSE', `${method} ${path}: the answer is not JSON: ${text.slice(0, 200)}`);
    }
  }

  /** `GET /v1/databases/:db`; undefined when the database does not exist (404). */
  async databaseInfo(db: string): Promise<DatabaseInfoJSON | undefined> {
    try {
      return (await this.json<DatabaseInfoJSON>('GET', `/v1/databases/${encodeURIComponent(db)}`)).body;
    } catch (e) {
      if (e instanceof ApiClientError && e.status === 404) return undefined;
      throw e;
    }
  }

  /**
   * `POST /v1/databases/:db/ltx` with one LTX file as the body (streamed when `body` gives a stream).
   * Retried: a re-push of a committed file answers 200, so a push whose answer was lost is safe to resend.
   */
  async pushLTX(db: string, body: BodySource, opts: { contentLength?: number } = {}): Promise<{ status: number; pos: PosJSON }> {
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (opts.contentLength !== undefined) headers['content-length'] = String(opts.contentLength);
    const { status, body: json } = await this.json<{ pos: PosJSON }>('POST', `/v1/databases/${encodeURIComponent(db)}/ltx`, {
      body,
      headers,
      retry: true,
    });
    return { status, pos: json.pos };
  }

  /**
   * `GET /v1/databases/:db/pages?pgno=…` (the batch page format): the pages asked for that exist at the
   * point (pages beyond its commit are left out) and the TXID they were read at (header LTX-TXID).
   * At most MAX_BATCH_PAGES pages; `pageSize` checks every frame.
   */
  async readPages(
    db: string,
    pgnos: readonly number[],
    pageSize: number,
    point: ReadPoint = {},
    signal?: AbortSignal,
  ): Promise<{ txid: bigint; pages: BatchPage[] }> {
    if (pgnos.length === 0 || pgnos.length > MAX_BATCH_PAGES)
      throw new RangeError(`readPages takes 1..${MAX_BATCH_PAGES} pages, got ${pgnos.length}`);
    const path = `/v1/databases/${encodeURIComponent(db)}/pages?pgno=${formatPgnoList(pgnos)}${pointQuery(point, '&')}`;
    const res = await this.request('GET', path, { headers: { accept: 'application/octet-stream, application/json' }, signal });
    const header = res.headers.get('ltx-txid');
    const body = new Uint8Array(await res.arrayBuffer());
    if (header === null || !/^[0-9a-f]{16}$/.test(header))
      throw new ApiClientError(res.status, 'BAD_RESPONSE', `GET ${path}: no LTX-TXID header`);
    const batch = decodePageBatch(body, pageSize);
    if (!batch.ok) throw new ApiClientError(res.status, 'BAD_RESPONSE', `GET ${path}: ${batch.message}`);
    return { txid: BigInt('0x' + header), pages: batch.pages };
  }

  /** `GET /v1/databases/:db/changes?since=` up to the point (default: the head). */
  async changes(db: string, since: bigint, point: ReadPoint = {}, signal?: AbortSignal): Promise<ChangesJSON> {
    const path = `/v1/databases/${encodeURIComponent(db)}/changes?since=${formatTXID(since)}${pointQuery(point, '&')}`;
    return (await this.json<ChangesJSON>('GET', path, { signal })).body;
  }

  /**
   * `POST /v1/databases/:db/tx?base=&commit=&page_size=`: a page-set write the server makes the next
   * TXID. Pages in ascending pgno. Not retried: had a lost answer been a success, a resend would only
   * meet 409 CONFLICT. Throws ApiClientError CONFLICT (409, `details.pos`) when `base` is not the head.
   */
  async writePages(
    db: string,
    base: bigint,
    pages: readonly BatchPage[],
    opts: { commit?: number; pageSize?: number } = {},
  ): Promise<PosJSON> {
    let path = `/v1/databases/${encodeURIComponent(db)}/tx?base=${formatTXID(base)}`;
    if (opts.commit !== undefined) path += `&commit=${opts.commit}`;
    if (opts.pageSize !== undefined) path += `&page_size=${opts.pageSize}`;
    const body = encodePageBatch(pages);
    const { body: json } = await this.json<{ pos: PosJSON }>('POST', path, {
      body: () => body,
      headers: { 'content-type': 'application/octet-stream' },
      retry: false,
    });
    return json.pos;
  }

  /** One fetch. `release` stops reading a streamed body (closing its file) if the server has not taken it all. */
  private async attempt(
    method: string,
    path: string,
    opts: RequestOptions,
    attempt: number,
  ): Promise<{ res: Response; release: () => void }> {
    const headers: Record<string, string> = { 'user-agent': `ltx-edge/${VERSION}`, accept: 'application/json', ...opts.headers };
    if (this.config.token !== undefined) headers.authorization = `Bearer ${this.config.token}`;
    const source = opts.body?.(attempt);
    // A stream is wrapped so that its own failure (disk, encoder) is told apart from the network's.
    let bodyError: { error: unknown } | undefined;
    const guarded = source instanceof ReadableStream ? guardStream(source, (error) => (bodyError = { error })) : undefined;
    // Our byte arrays are ArrayBuffer-backed; the DOM lib's BodyInit (the package's declarations) would also admit a SharedArrayBuffer view.
    const init: RequestInit & { duplex?: 'half' } = {
      method,
      headers,
      body: (guarded?.stream ?? source) as BodyInit | undefined,
      signal: opts.signal,
    };
    if (guarded) {
      init.duplex = 'half';
      // Not only because a streamed body cannot be replayed to a redirect: with any other mode, undici
      // clones the request, tee()s the body and never reads the clone's branch, which then buffers the
      // whole upload in memory (nodejs/undici#4058; measured: RSS grows by the body's size).
      init.redirect = 'error';
    }
    const url = this.urlOf(path);
    try {
      return { res: await this.fetchFn(url, init), release: () => guarded?.release() };
    } catch (e) {
      guarded?.release();
      if (bodyError) throw bodyError.error;
      if (opts.signal?.aborted) throw e;
      if (guarded && e instanceof Error && e.cause instanceof Error && e.cause.message === 'unexpected redirect') {
        throw new ApiClientError(0, 'UNEXPECTED_REDIRECT', `${method} ${url}: the server answered with a redirect; give the final URL`);
      }
      throw new NetworkFailure(networkError(method, url, e));
    }
  }
}

/** `txid=` / `at=` of a read point as a query string part starting with `sep`; empty for the head. */
export function pointQuery(point: ReadPoint, sep: '?' | '&'): string {
  if (point.txid !== undefined) return `${sep}txid=${formatTXID(point.txid)}`;
  if (point.at !== undefined) return `${sep}at=${encodeURIComponent(point.at)}`;
  return '';
}

/** Internal: marks a failure to reach the server, which may be retried. */
class NetworkFailure extends Error {
  readonly error: ApiClientError;
  constructor(error: ApiClientError) {
    super(error.message);
    this.error = error;
  }
}

/** Network errors, 429 and 5xx (but 501 Not Implemented) are worth another try. */
function isRetryable(e: ApiClientError): boolean {
  return e.status === 0 || e.status === 429 || (e.status >= 500 && e.status !== 501);
}

/**
 * Passes `source` through one chunk per pull (back-pressure kept), reporting the source's own error to
 * `onError` (so it is not mistaken for the network's). `release` stops reading it early.
 */
function guardStream(
  source: ReadableStream<Uint8Array>,
  onError: (e: unknown) => void,
): { stream: ReadableStream<Uint8Array>; release: () => void } {
  const reader = source.getReader();
  let finished = false;
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let r: ReadableStreamReadResult<Uint8Array>;
        try {
          r = await reader.read();
        } catch (e) {
          finished = true;
          onError(e);
          controller.error(e);
          return;
        }
        if (r.done) {
          finished = true;
          controller.close();
        } else {
          controller.enqueue(r.value);
        }
      },
      cancel(reason) {
        finished = true;
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  const release = (): void => {
    if (finished) return;
    finished = true;
    reader.cancel().catch(() => undefined);
  };
  return { stream, release };
}

/** The JSON error of DESIGN §4 as an ApiClientError; other bodies get code HTTP_<status>. */
export async function errorFromResponse(res: Response): Promise<ApiClientError> {
  let text = '';
  try {
    text = await res.text();
  } catch {
    // The status alone still says what happened.
  }
  try {
    const json = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    const e = json.error;
    if (e && typeof e.code === 'string') {
      const details = e.details && typeof e.details === 'object' ? (e.details as Record<string, unknown>) : undefined;
      return new ApiClientError(res.status, e.code, typeof e.message === 'string' ? e.message : res.statusText, details);
    }
  } catch {
    // Not JSON: a proxy's or the platform's own error page.
  }
  const snippet = text.replace(/\s+/g, ' ').trim().slice(0, 200);
  // An empty body: typically a server that answered before reading our upload and then reset the connection.
  const why = snippet ? `: ${snippet}` : ' (no error body: the connection may have closed before it arrived)';
  return new ApiClientError(res.status, `HTTP_${res.status}`, `${res.status} ${res.statusText}${why}`);
}

/** undici's "fetch failed" with the system code of its cause (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET…). */
function networkError(method: string, url: string, e: unknown): ApiClientError {
  const cause = e instanceof Error ? e.cause : undefined;
  const causes = cause instanceof AggregateError ? cause.errors : [cause];
  const coded = causes.find((c): c is NodeJS.ErrnoException => c instanceof Error && typeof (c as NodeJS.ErrnoException).code === 'string');
  const why = coded
    ? `${coded.code}${coded.message && !coded.message.startsWith(coded.code!) ? ` ${coded.message}` : ''}`
    : String((cause as Error | undefined)?.message ?? e);
  return new ApiClientError(0, 'NETWORK_ERROR', `${method} ${url}: ${why}`, coded ? { cause: coded.code } : undefined, { cause: e });
}

/** Retry-After in seconds (an HTTP date is rare enough to ignore); undefined when absent or unusable. */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim()) * 1000;
}

/** The batch endpoint's page list (kept here for the client's callers; it lives beside the batch format). */
export { formatPgnoList };
