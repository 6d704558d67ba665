// A DatabaseDO's watchers: hibernatable WebSockets from the Workers serving GET …/watch, told of every commit in TXID order.

import { formatTXID } from '../ltx/index.ts';
import type { Catalog } from './catalog.ts';
import type { Committed } from './ingest.ts';
import type { ReadPlanner } from './read-plan.ts';
import { type CommitEvent, RecentCommits, WATCH_MAX_PGNOS, type WatchFrame, commitEvent, commitFrame, sseEvent } from './watchers.ts';

/** Why a watcher was not accepted: the Worker answers with this error. */
export interface WatchRefusal {
  code: 'NOT_FOUND' | 'TOO_MANY_WATCHERS';
  message: string;
  details?: Record<string, unknown>;
}

/**
 * Sockets are accepted with the hibernation API (`ctx.acceptWebSocket`): the DO may leave memory
 * while its watchers are idle, and getWebSockets() finds them again when the next commit wakes it.
 */
export class WatchHub {
  private readonly ctx: DurableObjectState;
  private readonly catalog: Catalog;
  private readonly planner: ReadPlanner;
  private readonly recent = new RecentCommits();
  /** Most watchers at once (LTX_EDGE_WATCHERS_PER_DATABASE); tests shrink it. */
  limit: number;

  constructor(ctx: DurableObjectState, catalog: Catalog, planner: ReadPlanner, limit: number) {
    this.ctx = ctx;
    this.catalog = catalog;
    this.planner = planner;
    this.limit = limit;
  }

  /** Open watchers. */
  get count(): number {
    return this.ctx.getWebSockets().length;
  }

  /**
   * Accepts a watcher and sends it, at once, what it missed after `since` (when given): the held
   * commit events one by one, else one event summing up the changes since it. Synchronous from
   * accept to the last backlog frame, so no commit can fall between the backlog and the live events.
   */
  accept(name: string, since: bigint | undefined): Response | WatchRefusal {
    const head = this.catalog.position();
    if (!head) return { code: 'NOT_FOUND', message: `database ${name} does not exist` };
    if (this.count >= this.limit) {
      return {
        code: 'TOO_MANY_WATCHERS',
        message: `database ${name} has ${this.count} watchers, the most it serves (LTX_EDGE_WATCHERS_PER_DATABASE)`,
        details: { limit: this.limit },
      };
    }
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    if (since !== undefined && since !== head.txid) {
      const missed = since < head.txid ? this.recent.after(formatTXID(since)) : undefined;
      for (const event of missed ?? [this.summarySince(since)]) server.send(sseEvent(commitFrame(event)));
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Tells every watcher about a commit (called in TXID order, after its transaction). */
  publish(committed: Committed): void {
    const event = commitEvent(committed);
    this.recent.add(event);
    this.broadcast(commitFrame(event));
  }

  /** The database was deleted: tells the watchers and closes their sockets. */
  deleted(): void {
    this.recent.clear();
    this.broadcast({ event: 'deleted', data: {} });
    for (const ws of this.ctx.getWebSockets()) closeQuietly(ws, 1000, 'database deleted');
  }

  /** A watcher went away: finish the close handshake so it leaves getWebSockets(). */
  closed(ws: WebSocket, code: number): void {
    // 1005/1006 are reserved: they say no code was sent, and cannot be sent back.
    closeQuietly(ws, code === 1005 || code === 1006 ? 1000 : code, 'watcher gone');
  }

  private broadcast(frame: WatchFrame): void {
    const sockets = this.ctx.getWebSockets();
    if (sockets.length === 0) return;
    const text = sseEvent(frame);
    for (const ws of sockets) {
      try {
        ws.send(text);
      } catch {
        // Closing already; webSocketClose cleans up.
      }
    }
  }

  /** One event from `since` to the head: the pages changed when the catalog can list them, else all. */
  private summarySince(since: bigint): CommitEvent {
    const head = this.catalog.position()!;
    const changes = since < head.txid ? this.planner.changes(since, {}) : undefined;
    const pgnos = changes?.ok && !changes.value.all ? changes.value.pgnos : undefined;
    return commitEvent({
      since,
      txid: head.txid,
      checksum: head.checksum,
      pageSize: head.pageSize,
      commit: head.commit,
      timestamp: this.catalog.fileEndingAt(head.txid)?.timestamp ?? head.updatedAt,
      pages: pgnos !== undefined && pgnos.length <= WATCH_MAX_PGNOS ? pgnos : undefined,
    });
  }
}

function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // Already closed.
  }
}
