// The live head: GET …/watch as Server-Sent Events over fetch (EventSource cannot send Authorization), resumed with Last-Event-ID; polling where the route is missing.

import { type Api, ApiError, dbPath, errorOf, errorText, isAbort } from './api.ts';
import { SseParser } from '../api/sse.ts';
import type { CommitEvent, DatabaseInfo } from './types.ts';

export type WatchStatus = 'connecting' | 'live' | 'reconnecting' | 'polling' | 'stopped';

export interface WatchOptions {
  api: Api;
  db: string;
  /** The head TXID already shown: the stream starts after it. */
  lastEventId: string;
  /** Stops everything (leaving the view, signing out). */
  signal: AbortSignal;
  onCommit(ev: CommitEvent): void;
  onDeleted(): void;
  onStatus(status: WatchStatus, detail?: string): void;
}

/** First reconnect delay (ms) after a stream ends or fails, doubling up to MAX_RETRY_MS; a `retry:` field replaces it. */
export const FIRST_RETRY_MS = 1000;
export const MAX_RETRY_MS = 30_000;
/** Polling interval (ms) when the server has no watch route. */
export const POLL_MS = 5000;

/** Follows the head until `signal` aborts, the database is deleted, or the token is refused. */
export async function watch(o: WatchOptions): Promise<void> {
  let lastId = o.lastEventId;
  let base = FIRST_RETRY_MS;
  let delay = base;
  o.onStatus('connecting');
  while (!o.signal.aborted) {
    let failure: string | undefined;
    try {
      const res = await o.api.fetch('GET', dbPath(o.db, '/watch'), {
        headers: { accept: 'text/event-stream', 'last-event-id': lastId },
        signal: o.signal,
      });
      if (res.status === 404) {
        await res.body?.cancel();
        return await poll(o, lastId);
      }
      if (!res.ok || !res.body) {
        const err = await errorOf(res);
        if (res.status === 401 || res.status === 403) return o.onStatus('stopped', `${err.code}: ${err.message}`);
        throw err;
      }
      o.onStatus('live');
      delay = base;
      const parser = new SseParser(lastId);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        for (const ev of parser.push(chunk.value)) {
          if (ev.type === 'deleted') return o.onDeleted();
          if (ev.type === 'message') o.onCommit(JSON.parse(ev.data) as CommitEvent);
        }
        lastId = parser.lastEventId;
        if (parser.retryMs !== undefined) base = delay = parser.retryMs;
      }
    } catch (e) {
      if (isAbort(e)) return;
      failure = errorText(e);
    }
    o.onStatus('reconnecting', failure);
    await pause(delay, o.signal);
    delay = Math.min(delay * 2, MAX_RETRY_MS);
  }
}

/**
 * The watch route answered 404: the database is gone (its info is 404 too), or this server has no such
 * route, and then its info is polled every POLL_MS; a moved head becomes a commit event.
 */
async function poll(o: WatchOptions, lastId: string): Promise<void> {
  let head = lastId;
  while (!o.signal.aborted) {
    try {
      const info = await o.api.json<DatabaseInfo>('GET', dbPath(o.db), { signal: o.signal });
      if (info.pos.txid !== head) {
        o.onCommit({ pos: info.pos, since: head, commit: info.commit, pageSize: info.pageSize, timestamp: info.updatedAt });
        head = info.pos.txid;
      }
      o.onStatus('polling');
    } catch (e) {
      if (isAbort(e)) return;
      if (e instanceof ApiError && e.status === 404) return o.onDeleted();
      o.onStatus('polling', `the last poll failed: ${(e as Error).message}`);
    }
    await pause(POLL_MS, o.signal);
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
