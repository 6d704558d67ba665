// The open database's shared state — its info, the head, the retained files and the selected point — and who listens to it.

import { formatTXID, toTXID } from './txid.ts';
import type { CommitEvent, DatabaseInfo, LtxFile, Point } from './types.ts';

/** What changed: the head moved (info, files), the file listing was replaced, or another point was selected. */
export type Change = 'head' | 'files' | 'point';

/** Files listed per level at most: the timeline and the point slider cover these. */
export const FILES_PER_LEVEL = 2000;

/** An LTX file as the timeline draws it; `size` is unknown for a file learnt from a commit event. */
export interface FileSpan {
  level: number;
  minTXID: bigint;
  maxTXID: bigint;
  size?: number;
  timestamp: string;
}

export function fileSpan(f: LtxFile): FileSpan {
  return { level: f.level, minTXID: toTXID(f.minTXID), maxTXID: toTXID(f.maxTXID), size: f.size, timestamp: f.timestamp };
}

export class DbState {
  readonly name: string;
  info: DatabaseInfo;
  /** Files per level, ascending; at most FILES_PER_LEVEL each. */
  files = new Map<number, FileSpan[]>();
  /** Levels whose listing stopped at FILES_PER_LEVEL. */
  capped = new Set<number>();
  point: Point = null;
  private listeners = new Set<(change: Change) => void>();
  private sortedBoundaries: bigint[] | undefined;

  constructor(name: string, info: DatabaseInfo) {
    this.name = name;
    this.info = info;
  }

  get head(): bigint {
    return toTXID(this.info.pos.txid);
  }

  /** The oldest TXID a read can still be planned at; undefined for an empty database. */
  get oldest(): bigint | undefined {
    return this.info.oldest ? toTXID(this.info.oldest.txid) : undefined;
  }

  /** The TXID reads happen at: the selected point, or the head. */
  get txid(): bigint {
    return this.point?.txid ?? this.head;
  }

  /** Ascending TXIDs a read can be planned at: ends of listed files from the oldest restorable point, and the head. */
  boundaries(): bigint[] {
    if (this.sortedBoundaries) return this.sortedBoundaries;
    const oldest = this.oldest;
    const set = new Set<bigint>();
    if (oldest !== undefined) {
      set.add(this.head);
      for (const files of this.files.values()) for (const f of files) if (f.maxTXID >= oldest) set.add(f.maxTXID);
    }
    this.sortedBoundaries = [...set].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return this.sortedBoundaries;
  }

  /** Calls `fn` on every change; returns the unsubscribe function. */
  on(fn: (change: Change) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  select(point: Point): void {
    this.point = point;
    this.emit('point');
  }

  /** A fresh GET …/:db answer. */
  setInfo(info: DatabaseInfo): void {
    const moved = info.pos.txid !== this.info.pos.txid || info.oldest?.txid !== this.info.oldest?.txid;
    this.info = info;
    if (moved) this.emit('head');
  }

  setFiles(files: Map<number, FileSpan[]>, capped: Set<number>): void {
    this.files = files;
    this.capped = capped;
    this.emit('files');
  }

  /** A commit from the watch stream: the head moves and a level-0 file ends there. False when it is not newer than the head. */
  applyCommit(ev: CommitEvent): boolean {
    const txid = toTXID(ev.pos.txid);
    if (txid <= this.head) return false;
    this.info = {
      ...this.info,
      pos: ev.pos,
      commit: ev.commit,
      pageSize: ev.pageSize,
      size: ev.commit * ev.pageSize,
      updatedAt: ev.timestamp,
      oldest: this.info.oldest ?? { txid: formatTXID(txid), timestamp: ev.timestamp },
    };
    const l0 = this.files.get(0) ?? [];
    l0.push({ level: 0, minTXID: toTXID(ev.since) + 1n, maxTXID: txid, timestamp: ev.timestamp });
    this.files.set(0, l0);
    this.emit('head');
    return true;
  }

  private emit(change: Change): void {
    if (change !== 'point') this.sortedBoundaries = undefined;
    for (const fn of this.listeners) fn(change);
  }
}
