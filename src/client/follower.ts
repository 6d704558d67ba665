// RemoteDatabase.follow(): the server's commit stream (GET …/watch) moves the view on each commit; polling where the server has none.

import { readSse } from '../api/sse.ts';
import type { WatchEventJSON } from '../api/wire.ts';
import { formatTXID } from '../ltx/index.ts';
import { type ApiClient, ApiClientError } from '../remote/http-client.ts';
import { DEFAULT_FOLLOW_INTERVAL_MS, type FollowOptions, type Follower, type RefreshResult } from './remote-database-options.ts';

/** Longest wait before reconnecting a broken stream. */
const MAX_RECONNECT_MS = 30_000;

/** What the loop needs of the view it moves. */
export interface FollowHost {
  readonly name: string;
  readonly api: ApiClient;
  /** The view's TXID now. */
  txid(): bigint;
  refresh(): Promise<RefreshResult>;
  /**
   * Moves the view to an event's head without asking the server; undefined when the view is there
   * already, 'gap' when the event starts after the view's TXID (something was missed: refresh).
   */
  applyCommit(event: WatchEventJSON): Promise<RefreshResult | 'gap' | undefined>;
}

/** Starts following; `stopped` is called once the loop ends. */
export function startFollowing(host: FollowHost, opts: FollowOptions, stopped: (f: Follower) => void): Follower {
  const intervalMs = opts.intervalMs ?? DEFAULT_FOLLOW_INTERVAL_MS;
  const abort = new AbortController();
  const follower: Follower = {
    stop: () => {
      if (abort.signal.aborted) return;
      abort.abort();
      stopped(follower);
    },
  };
  const report = (e: unknown): void => {
    if (!abort.signal.aborted) opts.onError?.(e);
  };
  const moved = (r: RefreshResult | undefined): void => {
    if (r && r.txid !== r.previous && !abort.signal.aborted) opts.onChange?.(r);
  };
  const loop: Loop = { host, intervalMs, signal: abort.signal, moved, report };
  void (opts.watch === false ? poll(loop) : watch(loop)).catch(report);
  return follower;
}

/** What both loops run with. */
interface Loop {
  host: FollowHost;
  intervalMs: number;
  signal: AbortSignal;
  /** A refresh or commit's result: told to onChange when it moved the view. */
  moved: (r: RefreshResult | undefined) => void;
  report: (e: unknown) => void;
}

async function poll({ host, intervalMs, signal, moved, report }: Loop): Promise<void> {
  for (let first = true; !signal.aborted; first = false) {
    if (!first) await pause(intervalMs, signal);
    if (signal.aborted) return;
    try {
      moved(await host.refresh());
    } catch (e) {
      report(e);
    }
  }
}

/**
 * One stream at a time, resumed from the view's TXID (`Last-Event-ID`), so nothing between two
 * streams is lost: each reconnect starts with what was missed. A refresh first, and after every
 * break, catches up with what the stream cannot say (a gap, or a server that has no stream: then
 * polling takes over). Reconnects back off from `intervalMs` to MAX_RECONNECT_MS, reset by an event.
 */
async function watch(loop: Loop): Promise<void> {
  const { host, intervalMs, signal, moved, report } = loop;
  let delay = intervalMs;
  for (let first = true; !signal.aborted; first = false) {
    if (!first) {
      await pause(delay, signal);
      delay = Math.min(delay * 2, MAX_RECONNECT_MS);
    }
    let exists = false;
    try {
      moved(await host.refresh());
      exists = true;
      const res = await host.api.request('GET', `/v1/databases/${encodeURIComponent(host.name)}/watch`, {
        headers: { accept: 'text/event-stream', 'last-event-id': formatTXID(host.txid()) },
        retry: false,
        signal,
      });
      for await (const e of readSse(res.body!)) {
        if (e.type === 'deleted') throw new ApiClientError(404, 'NOT_FOUND', `database ${host.name} was deleted`);
        if (e.type !== 'message') continue;
        const r = await host.applyCommit(JSON.parse(e.data) as WatchEventJSON);
        moved(r === 'gap' ? await host.refresh() : r);
        delay = intervalMs;
      }
    } catch (e) {
      if (signal.aborted) return;
      // The refresh just found the database, but GET …/watch is 404: a server from before the stream.
      // (A database deleted in between is 404 too; polling then reports it on every round, as it would.)
      if (exists && e instanceof ApiClientError && e.status === 404) {
        return poll(loop);
      }
      report(e);
    }
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
