// Pull-style page iteration over an LTX byte stream: header first, then one verified-so-far page at a time.

import { type DecodeResult, type DecodedPage, type DecoderLimits, LTXDecoder } from './decoder.ts';
import { fail } from './errors.ts';
import type { Header } from './header.ts';

/** Anything that yields the bytes of one LTX file in order. */
export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/**
 * Reads one file lazily: `open()` pulls until the header is known, `next()` returns pages in file
 * order and, after the last one, `undefined` once the whole file (index, trailer, checksum) verified.
 */
export class PageReader {
  private readonly dec: LTXDecoder;
  private readonly it: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  private result: DecodeResult | undefined;
  /** With `recycle`: the two page buffers next() alternates between. */
  private buffers: [Uint8Array, Uint8Array] | undefined;
  private readonly recycle: boolean;
  /** Which of the buffers holds the page next() returned last. */
  private last = 0;

  /**
   * With `recycle`, pages are decoded into two buffers in turn, so a page stays valid until next()
   * has been called twice more: enough for a k-way merge, which advances an input once before it
   * hands out that input's page, and no fresh memory per page. Without, every page is its own.
   */
  constructor(source: ByteSource, limits: Partial<DecoderLimits> = {}, opts: { recycle?: boolean } = {}) {
    this.recycle = opts.recycle === true;
    this.dec = new LTXDecoder(limits);
    this.it =
      Symbol.asyncIterator in source
        ? (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
        : (source as Iterable<Uint8Array>)[Symbol.iterator]();
  }

  /** The header; pulls input until the first 100 bytes are in. */
  async open(): Promise<Header> {
    for (;;) {
      const h = this.dec.readHeader();
      if (h) return h;
      if (!(await this.pull())) return fail('LTX_TRUNCATED', 'file ends inside the header');
    }
  }

  /** The next page, or undefined after the last page of a fully verified file. */
  async next(): Promise<DecodedPage | undefined> {
    for (;;) {
      if (this.result) return undefined;
      const into = this.recycle ? this.spare() : undefined;
      const page = this.dec.nextPage(into);
      if (page) {
        if (into) this.last ^= 1;
        return page;
      }
      if (!(await this.pull())) this.result = this.dec.end();
    }
  }

  /** What the decoder verified; available once `next()` has returned undefined. */
  get summary(): DecodeResult {
    return this.result ?? fail('LTX_INVALID_ARGUMENT', 'file not read to the end yet');
  }

  /** The buffer not holding the last page handed out (once the header says how large pages are). */
  private spare(): Uint8Array | undefined {
    const h = this.dec.header;
    if (h === undefined) return undefined;
    this.buffers ??= [new Uint8Array(h.pageSize), new Uint8Array(h.pageSize)];
    return this.buffers[this.last ^ 1];
  }

  private async pull(): Promise<boolean> {
    const r = await this.it.next();
    if (r.done) return false;
    this.dec.write(r.value);
    return true;
  }
}
