// A sequential read of one plan file through its page index, a run of frames at a time (snapshots merge these).

import { decodeHeader, decodePageFrame, fail, type Header, HEADER_SIZE, lockPgno } from '../ltx/index.ts';
import type { LoadedIndex, PageSource } from './page-source.ts';
import type { PlanFileRef } from './plan.ts';

/** A page as a scan yields it: a fresh buffer of exactly the page size. */
export interface ScannedPage {
  pgno: number;
  data: Uint8Array;
}

/** A run of frames read in one get: its bytes, where they start in the file, the index position after its last frame. */
interface Run {
  buf: Uint8Array;
  offset: number;
  next: number;
}

/** A sequential read of one plan file through its page index (see PageSource.scanFile). */
export class FileScan {
  private readonly source: PageSource;
  private readonly db: string;
  private readonly file: PlanFileRef;
  private readonly runBytes: number;
  private loaded: LoadedIndex | undefined;
  private header: Header | undefined;
  private buf: Uint8Array = new Uint8Array(0);
  private bufOffset = 0;
  private at = 0; // next position in the index
  /** The run after the one in `buf`, already asked for: index position it starts at, and its bytes. */
  private ahead: { j: number; run: Promise<Run> } | undefined;

  constructor(source: PageSource, db: string, file: PlanFileRef, runBytes: number) {
    this.source = source;
    this.db = db;
    this.file = file;
    this.runBytes = Math.max(1, runBytes);
  }

  /** Loads the index and decodes the header (validated as the codec does). */
  async open(): Promise<Header> {
    this.loaded = await this.source.loadIndex(this.db, this.file);
    const { tail, tailOffset } = this.loaded;
    if (tail !== undefined && tailOffset === 0) {
      this.buf = tail;
      this.bufOffset = 0;
    } else {
      await this.readRun(0, false);
    }
    this.header = decodeHeader(this.buf.subarray(0, HEADER_SIZE));
    return this.header;
  }

  /** Skips to the first page numbered `pgno` or more (after open(); a later step of a chunked snapshot). */
  seek(pgno: number): void {
    const { index } = this.loaded ?? fail('LTX_INVALID_ARGUMENT', 'FileScan.seek() before open()');
    let lo = 0;
    let hi = index.pgnos.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (index.pgnos[mid] < pgno) lo = mid + 1;
      else hi = mid;
    }
    this.at = lo;
  }

  /** The next page in pgno order, or undefined after the last one. */
  async next(): Promise<ScannedPage | undefined> {
    const { index, tail, tailOffset } = this.loaded ?? fail('LTX_INVALID_ARGUMENT', 'FileScan.next() before open()');
    const j = this.at;
    if (j >= index.pgnos.length) return undefined;
    const off = index.offsets[j];
    const size = index.sizes[j];
    let bytes: Uint8Array;
    if (off >= this.bufOffset && off + size <= this.bufOffset + this.buf.length) {
      bytes = this.buf.subarray(off - this.bufOffset, off - this.bufOffset + size);
    } else if (tail !== undefined && off >= tailOffset) {
      bytes = tail.subarray(off - tailOffset, off - tailOffset + size);
    } else {
      await this.readRun(j);
      bytes = this.buf.subarray(off - this.bufOffset, off - this.bufOffset + size);
    }
    const h = this.header!;
    const page = decodePageFrame(bytes, h.pageSize);
    if (page.pgno !== index.pgnos[j]) fail('LTX_BAD_INDEX', `frame at ${off} holds page ${page.pgno}, index says ${index.pgnos[j]}`);
    // What the streaming decoder rejects too (ltx-format.md §7, §2).
    if (page.pgno === lockPgno(h.pageSize)) fail('LTX_LOCK_PAGE', `lock page ${page.pgno} present`);
    if (page.pgno > h.commit) fail('LTX_PAGE_OUT_OF_RANGE', `page ${page.pgno} is beyond commit ${h.commit}`);
    this.at++;
    return page;
  }

  /**
   * Makes `buf` the run of frames from index position `j` on (from the header when j is 0), up to
   * runBytes, at least one frame; then, with `readAhead`, asks for the run after it (it arrives
   * while this one is decoded), unless that run lies in the index's tail, which is already here.
   * open() reads without: a chunked snapshot's step seeks away from the start right after.
   */
  private async readRun(j: number, readAhead = true): Promise<void> {
    this.buf = new Uint8Array(0); // let the previous run go before the next arrives
    const ahead = this.ahead;
    this.ahead = undefined;
    const run = await (ahead?.j === j ? ahead.run : this.fetchRun(j));
    this.buf = run.buf;
    this.bufOffset = run.offset;
    const { index, tail, tailOffset } = this.loaded!;
    const next = run.next;
    if (readAhead && next < index.pgnos.length && !(tail !== undefined && index.offsets[next] >= tailOffset)) {
      const p = this.fetchRun(next);
      p.catch(() => undefined); // asked for early: a failure counts only if the scan gets there
      this.ahead = { j: next, run: p };
    }
  }

  /** Reads the frames from index position `j` on (from the header when j is 0), up to runBytes, at least one frame. */
  private async fetchRun(j: number): Promise<Run> {
    const { index } = this.loaded!;
    const n = index.pgnos.length;
    const start = j === 0 ? 0 : index.offsets[j];
    let next = j + 1;
    while (next < n && index.offsets[next] + index.sizes[next] - start <= this.runBytes) next++;
    const end = j < n ? index.offsets[next - 1] + index.sizes[next - 1] : HEADER_SIZE;
    return { buf: await this.source.readRange(this.db, this.file, start, end - start), offset: start, next };
  }
}
