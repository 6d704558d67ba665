// Pages decoded into the caller's buffer (nextPage(into)) and PageReader's two recycled buffers: the same pages, and each valid as long as promised.

import { describe, expect, it } from 'vitest';
import { HEADER_FLAG_NO_CHECKSUM, LTXDecoder, LTXError, PageReader, decodeLTX, encodeLTX, makeHeader } from '../../../src/ltx/index.ts';
import { prng } from '../../helpers/prng.ts';

const SEED = 7070;

function file(pageSize: number, count: number, seed: number): Uint8Array {
  const r = prng(seed);
  const pages = Array.from({ length: count }, (_, i) => ({
    pgno: i + 1,
    data: r.int(2) ? r.bytes(pageSize) : new Uint8Array(pageSize).fill(i),
  }));
  const header = makeHeader({
    pageSize,
    commit: count,
    minTXID: 1n,
    maxTXID: 1n,
    timestamp: 1_700_000_000_000,
    flags: HEADER_FLAG_NO_CHECKSUM,
  });
  return encodeLTX(header, pages);
}

/** The file in pieces of `size` bytes. */
function* pieces(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

describe(`recycled page buffers (seed ${SEED})`, () => {
  it('nextPage(into) decodes into the given buffer the pages push() hands out fresh', () => {
    for (const pageSize of [512, 4096, 65536]) {
      const bytes = file(pageSize, 40, SEED + pageSize);
      const fresh = decodeLTX(bytes);
      const dec = new LTXDecoder();
      const into = new Uint8Array(pageSize);
      const seen: { pgno: number; data: Uint8Array; offset: number; size: number }[] = [];
      for (const chunk of pieces(bytes, 1000)) {
        dec.write(chunk);
        for (let p = dec.nextPage(into); p; p = dec.nextPage(into)) {
          expect(p.data).toBe(into);
          seen.push({ pgno: p.pgno, data: p.data.slice(), offset: p.offset, size: p.size });
        }
      }
      const { pages: _, ...summary } = fresh;
      expect(dec.end()).toEqual(summary);
      expect(seen).toEqual(fresh.pages.map((p) => ({ pgno: p.pgno, data: p.data, offset: p.offset, size: p.size })));
    }
  });

  it('nextPage(into) refuses a buffer that is not one page long', () => {
    const dec = new LTXDecoder();
    dec.write(file(4096, 3, SEED));
    const err = (() => {
      try {
        dec.nextPage(new Uint8Array(4095));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(LTXError);
    expect((err as LTXError).code).toBe('LTX_INVALID_ARGUMENT');
  });

  it('a recycling PageReader gives the same pages from two buffers, each intact until two more next() calls', async () => {
    const bytes = file(4096, 64, SEED + 1);
    const fresh = decodeLTX(bytes).pages;
    const reader = new PageReader(pieces(bytes, 3000), {}, { recycle: true });
    await reader.open();
    const buffers = new Set<Uint8Array>();
    let previous: { data: Uint8Array; copy: Uint8Array } | undefined;
    for (let i = 0, p = await reader.next(); p; i++, p = await reader.next()) {
      expect(p.pgno).toBe(fresh[i].pgno);
      expect(p.data).toEqual(fresh[i].data);
      // The page before this one survived this next() call.
      if (previous) expect(previous.data).toEqual(previous.copy);
      previous = { data: p.data, copy: p.data.slice() };
      buffers.add(p.data);
    }
    expect(buffers.size).toBe(2);
    expect(reader.summary.pageCount).toBe(64);
  });
});
