// An in-memory PageSink: a database as page buffers, serialised to SQLite file bytes with the lock page zeroed.

import type { PageSink } from './apply.ts';

export class MemoryDatabase implements PageSink {
  pageSize = 0;
  commit = 0;
  private readonly pages = new Map<number, Uint8Array>();
  /** writePage keeps a copy. */
  readonly releasesPages = true;

  writePage(pgno: number, data: Uint8Array): void {
    this.pages.set(pgno, data.slice());
  }

  setCommit(pages: number, pageSize: number): void {
    this.pageSize = pageSize;
    this.commit = pages;
    for (const pgno of this.pages.keys()) if (pgno > pages) this.pages.delete(pgno);
  }

  /** Page bytes (zeros when never written or the lock page). */
  page(pgno: number): Uint8Array {
    return this.pages.get(pgno) ?? new Uint8Array(this.pageSize);
  }

  /** The database file: pages 1..commit. */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.commit * this.pageSize);
    for (const [pgno, data] of this.pages) out.set(data, (pgno - 1) * this.pageSize);
    return out;
  }
}
