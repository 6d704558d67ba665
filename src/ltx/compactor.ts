// Streaming k-way merge of contiguous LTX files into one block-format file (ltx-format.md §11).

import { HEADER_FLAG_NO_CHECKSUM, lockPgno } from './constants.ts';
import type { DecodedPage, DecoderLimits } from './decoder.ts';
import { LTXEncoder } from './encoder.ts';
import { fail } from './errors.ts';
import { type Header, isSnapshot, tracksChecksums } from './header.ts';
import { type ByteSource, PageReader } from './page-reader.ts';

export interface CompactOptions {
  /** Output header flags; default: the first input's. A checksum-tracking output needs tracking inputs. */
  headerFlags?: number;
  /** Allow gaps between inputs (the reference's AllowNonContiguousTXIDs). Default false. */
  allowGaps?: boolean;
  limits?: Partial<DecoderLimits>;
}

/** `IsContiguous`: the next file may overlap the previous one but must reach past it, with no gap. */
export function isContiguous(prevMax: bigint, min: bigint, max: bigint): boolean {
  return min <= prevMax + 1n && max > prevMax;
}

/** The merged header the reference compactor writes for these inputs. */
export function compactedHeader(headers: readonly Header[], flags: number): Header {
  const first = headers[0];
  const last = headers[headers.length - 1];
  const tracked = (flags & HEADER_FLAG_NO_CHECKSUM) === 0;
  return {
    flags,
    pageSize: first.pageSize,
    commit: last.commit,
    minTXID: first.minTXID,
    maxTXID: last.maxTXID,
    timestamp: last.timestamp,
    preApplyChecksum: tracked && !isSnapshot(first) ? first.preApplyChecksum : 0n,
    walOffset: 0n,
    walSize: 0n,
    walSalt1: 0,
    walSalt2: 0,
    nodeID: 0n,
  };
}

/**
 * Merges `inputs` (oldest first) page by page: for each pgno the latest input wins, pages beyond the
 * final commit are dropped. Yields the output file as chunks; every input is fully verified before
 * the output's trailer is produced, so a bad input fails the stream before it completes.
 */
export async function* compactLTX(inputs: readonly ByteSource[], opts: CompactOptions = {}): AsyncGenerator<Uint8Array> {
  if (inputs.length === 0) fail('LTX_INVALID_ARGUMENT', 'nothing to compact');
  // Recycled pages: each winner is encoded before the merge moves on.
  const readers = inputs.map((src) => new PageReader(src, opts.limits, { recycle: true }));
  const headers: Header[] = [];
  for (const r of readers) headers.push(await r.open());
  checkInputs(headers, opts.allowGaps ?? false);
  const flags = opts.headerFlags ?? headers[0].flags;
  const header = compactedHeader(headers, flags);
  const tracked = tracksChecksums(header);
  if (tracked && !headers.every(tracksChecksums)) {
    fail('LTX_INVALID_ARGUMENT', 'a checksum-tracking output needs checksum-tracking inputs');
  }

  const enc = new LTXEncoder(header);
  yield enc.start();
  // A page that some input truncated away (its Commit below the page) and no later input wrote
  // again is a zero page afterwards, not the older copy: the reference compactor keeps the older
  // copy, which applies wrongly after a shrink and regrowth. Stale copies are dropped (ceilings), and
  // the region above the lowest Commit is written out in full, zeros where nothing was written.
  const commits = headers.map((h) => h.commit);
  const ceilings = commits.map((_, i) => Math.min(Infinity, ...commits.slice(i + 1)));
  const lock = lockPgno(header.pageSize);
  const zero = new Uint8Array(header.pageSize);
  let nextZero = Math.min(...commits) + 1;
  for await (const page of mergePages(readers, header.commit, ceilings)) {
    for (; nextZero < page.pgno; nextZero++) if (nextZero !== lock) yield enc.encodePage(nextZero, zero);
    yield enc.encodePage(page.pgno, page.data);
    nextZero = Math.max(nextZero, page.pgno + 1);
  }
  for (; nextZero <= header.commit; nextZero++) if (nextZero !== lock) yield enc.encodePage(nextZero, zero);
  const last = readers[readers.length - 1].summary.trailer;
  yield enc.finish(tracked ? last.postApplyChecksum : undefined);
}

/** Anything that hands out pages in ascending pgno order, then undefined: a `PageReader`, for one. */
export interface PageCursor<P extends { pgno: number } = DecodedPage> {
  next(): Promise<P | undefined>;
}

/**
 * The k-way merge at the heart of compaction: `inputs` oldest first (opened, positioned before their
 * first page), drained to the end so every input is fully read (a PageReader verifies its file).
 * Yields, in ascending pgno, the newest input's copy of each page with pgno ≤ `commit`; pages that no
 * input holds are not yielded. `ceilings` (one per input, non-decreasing), when given, also drops a
 * page whose winning input i has `ceilings[i]` below it: with the smallest Commit of the inputs after
 * i, a page truncated away by a later shrink does not come back when the database grows again without
 * rewriting it (compactLTX keeps the reference semantics: only the final Commit counts).
 * Memory: one page per input.
 */
export async function* mergePages<P extends { pgno: number }>(
  inputs: readonly PageCursor<P>[],
  commit: number,
  ceilings?: readonly number[],
): AsyncGenerator<P> {
  const heap = new PageHeap<P>();
  for (let i = 0; i < inputs.length; i++) {
    const p = await inputs[i].next();
    if (p) heap.push(p, i);
  }
  while (heap.size > 0) {
    const pgno = heap.topPgno();
    let winner: P | undefined;
    let from = 0;
    // Pop every input's copy of this page; the highest input index (newest) is popped last.
    while (heap.size > 0 && heap.topPgno() === pgno) {
      const [page, i] = heap.pop();
      winner = page;
      from = i;
      const p = await inputs[i].next();
      if (p) heap.push(p, i);
    }
    if (pgno <= commit && (ceilings === undefined || pgno <= ceilings[from])) yield winner!;
  }
}

function checkInputs(headers: readonly Header[], allowGaps: boolean): void {
  for (let i = 1; i < headers.length; i++) {
    const prev = headers[i - 1];
    const cur = headers[i];
    if (cur.pageSize !== prev.pageSize) {
      fail('LTX_PAGE_SIZE_MISMATCH', `input ${i} has page size ${cur.pageSize}, expected ${prev.pageSize}`);
    }
    const ok = allowGaps ? cur.maxTXID > prev.maxTXID : isContiguous(prev.maxTXID, cur.minTXID, cur.maxTXID);
    if (!ok) fail('LTX_NOT_CONTIGUOUS', `input ${i} (${cur.minTXID}-${cur.maxTXID}) does not follow ${prev.maxTXID}`);
  }
}

/** Min-heap of each input's current page, by pgno, ties broken by input index (older first). */
class PageHeap<P extends { pgno: number }> {
  private readonly pages: P[] = [];
  private readonly inputs: number[] = [];

  get size(): number {
    return this.pages.length;
  }

  topPgno(): number {
    return this.pages[0].pgno;
  }

  push(page: P, input: number): void {
    this.pages.push(page);
    this.inputs.push(input);
    this.up(this.pages.length - 1);
  }

  pop(): [P, number] {
    const top: [P, number] = [this.pages[0], this.inputs[0]];
    const lastPage = this.pages.pop()!;
    const lastInput = this.inputs.pop()!;
    if (this.pages.length > 0) {
      this.pages[0] = lastPage;
      this.inputs[0] = lastInput;
      this.down(0);
    }
    return top;
  }

  private less(a: number, b: number): boolean {
    const pa = this.pages[a].pgno;
    const pb = this.pages[b].pgno;
    return pa < pb || (pa === pb && this.inputs[a] < this.inputs[b]);
  }

  private swap(a: number, b: number): void {
    [this.pages[a], this.pages[b]] = [this.pages[b], this.pages[a]];
    [this.inputs[a], this.inputs[b]] = [this.inputs[b], this.inputs[a]];
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.pages.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }
}
