// Live heads (GET …/watch): the commit events a DatabaseDO sends its hibernatable watcher sockets, and the recent ones kept for resuming.

import { formatTXID } from '../ltx/index.ts';
import type { Committed } from './ingest.ts';
import type { WatchEventJSON } from '../api/wire.ts';

/** Most pages one event lists; a commit that wrote more says `all`. */
export const WATCH_MAX_PGNOS = 1024;
/** Commit events kept in memory to replay one by one to a watcher that reconnects (`Last-Event-ID`). */
export const WATCH_RECENT_EVENTS = 256;

/** The data of one commit event, as the stream sends it (the wire type). */
export type CommitEvent = WatchEventJSON;

/** One event from the DO to its watchers (sent as sseEvent's text). */
export interface WatchFrame {
  /** The SSE id: the TXID the watcher is at after this event. */
  id?: string;
  /** The SSE event name; absent for commits (the default `message` event). */
  event?: 'deleted';
  data: CommitEvent | Record<string, never>;
}

/** One SSE event as the stream carries it: the DO formats it once, every watching Worker relays the text. */
export function sseEvent(frame: WatchFrame): string {
  const id = frame.id === undefined ? '' : `id: ${frame.id}\n`;
  const event = frame.event === undefined ? '' : `event: ${frame.event}\n`;
  return `${id}${event}data: ${JSON.stringify(frame.data)}\n\n`;
}

/** A commit event from what ingest reports. */
export function commitEvent(c: Omit<Committed, 'size'>): CommitEvent {
  const all = c.pages === undefined || c.pages.length > WATCH_MAX_PGNOS;
  return {
    pos: { txid: formatTXID(c.txid), postApplyChecksum: formatTXID(c.checksum) },
    since: formatTXID(c.since),
    pageSize: c.pageSize,
    commit: c.commit,
    timestamp: new Date(c.timestamp).toISOString(),
    ...(all ? {} : { pgnos: c.pages }),
    all,
  };
}

/** The frame of a commit event. */
export function commitFrame(event: CommitEvent): WatchFrame {
  return { id: event.pos.txid, data: event };
}

/**
 * The last WATCH_RECENT_EVENTS commit events, contiguous (each one's `since` is the previous one's
 * TXID). Lost when the DO is evicted; a watcher resuming from before them gets one summary event.
 */
export class RecentCommits {
  private events: CommitEvent[] = [];

  add(event: CommitEvent): void {
    const last = this.events[this.events.length - 1];
    if (last !== undefined && last.pos.txid !== event.since) this.events = [];
    this.events.push(event);
    if (this.events.length > WATCH_RECENT_EVENTS) this.events.shift();
  }

  /** The events after `since`, one per commit, or undefined when they are not all held. */
  after(since: string): CommitEvent[] | undefined {
    const i = this.events.findIndex((e) => e.since === since);
    return i < 0 ? undefined : this.events.slice(i);
  }

  clear(): void {
    this.events = [];
  }
}
