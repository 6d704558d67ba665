// decode(encode(x)) = x for seeded random page sets: every page size, incompressible pages, lock-page boundaries.

import { describe, expect, it } from 'vitest';
import { databaseChecksum, pageChecksum } from '../../../src/ltx/checksum.ts';
import { CHECKSUM_FLAG, HEADER_FLAG_NO_CHECKSUM, lockPgno } from '../../../src/ltx/constants.ts';
import { LTXDecoder, decodeLTX } from '../../../src/ltx/decoder.ts';
import { type PageInput, LTXEncoder, encodeLTX } from '../../../src/ltx/encoder.ts';
import { type Header, makeHeader } from '../../../src/ltx/header.ts';
import { type Prng, prng } from '../../helpers/prng.ts';

const SEED = 20261124;
const PAGE_SIZES = [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];

/** A page of one of several kinds SQLite files contain. */
function randomPage(r: Prng, size: number): Uint8Array {
  switch (r.int(4)) {
    case 0:
      return r.bytes(size); // incompressible
    case 1:
      return new Uint8Array(size); // empty
    case 2: {
      const p = new Uint8Array(size); // repeated records with varying fields
      const rec = r.bytes(8 + r.int(40));
      for (let i = 0; i < size; i++) p[i] = rec[i % rec.length] ^ (i % 97 === 0 ? r.int(256) : 0);
      return p;
    }
    default: {
      const p = new Uint8Array(size); // sparse: mostly zero, random runs
      for (let n = r.int(20); n > 0; n--) {
        const at = r.int(size);
        p.set(r.bytes(Math.min(r.int(200), size - at)), at);
      }
      return p;
    }
  }
}

function roundTrip(header: Header, pages: PageInput[], post?: bigint): void {
  const bytes = encodeLTX(header, pages, post);
  const d = decodeLTX(bytes);
  expect(d.header).toEqual(header);
  expect(d.pages.map((p) => p.pgno)).toEqual(pages.map((p) => p.pgno));
  for (let i = 0; i < pages.length; i++) expect(d.pages[i].data).toEqual(pages[i].data);
  if (post !== undefined) expect(d.trailer.postApplyChecksum).toBe(post);
}

describe(`round trip (seed ${SEED})`, () => {
  console.log(`roundtrip seed ${SEED}`);

  it.each(PAGE_SIZES)('snapshots of page size %i', (pageSize) => {
    const r = prng(SEED ^ pageSize);
    for (let iter = 0; iter < 6; iter++) {
      const commit = r.int(pageSize >= 16384 ? 6 : 40);
      const pages = Array.from({ length: commit }, (_, i) => ({ pgno: i + 1, data: randomPage(r, pageSize) }));
      const flags = r.int(2) ? HEADER_FLAG_NO_CHECKSUM : 0;
      if (flags && commit === 0) continue; // a NoChecksum file cannot have commit 0
      const header = makeHeader({ pageSize, commit, minTXID: 1n, maxTXID: BigInt(1 + r.int(5)), flags, timestamp: r.int(2 ** 40) });
      const post = flags ? 0n : databaseChecksum(pageSize, commit, (p) => pages[p - 1].data);
      roundTrip(header, pages, post);
    }
  });

  it.each(PAGE_SIZES)('incremental files of page size %i', (pageSize) => {
    const r = prng(SEED ^ (pageSize * 3));
    for (let iter = 0; iter < 6; iter++) {
      const commit = 1 + r.int(200);
      const pgnos = [...new Set(Array.from({ length: r.int(12) }, () => 1 + r.int(commit)))].sort((a, b) => a - b);
      const pages = pgnos.map((pgno) => ({ pgno, data: randomPage(r, pageSize) }));
      const min = 2n + BigInt(r.int(1000));
      const header = makeHeader({
        pageSize,
        commit,
        minTXID: min,
        maxTXID: min + BigInt(r.int(3)),
        preApplyChecksum: CHECKSUM_FLAG | BigInt(r.int(2 ** 31)),
        walOffset: 32n,
        walSize: BigInt(r.int(2 ** 20)),
        walSalt1: r.int(2 ** 32),
        walSalt2: r.int(2 ** 32),
        nodeID: BigInt(r.int(1000)),
      });
      roundTrip(header, pages, CHECKSUM_FLAG | BigInt(r.int(2 ** 31)));
    }
  });

  it.each([512, 4096, 65536])('incremental pages around the lock page (page size %i)', (pageSize) => {
    const r = prng(SEED ^ 77);
    const lock = lockPgno(pageSize);
    const pages = [1, lock - 1, lock + 1, lock + 2].map((pgno) => ({ pgno, data: randomPage(r, pageSize) }));
    const header = makeHeader({ pageSize, commit: lock + 2, minTXID: 5n, maxTXID: 5n, preApplyChecksum: CHECKSUM_FLAG | 1n });
    roundTrip(header, pages, CHECKSUM_FLAG | 2n);
    const withLock = () => encodeLTX(header, [{ pgno: lock, data: new Uint8Array(pageSize) }], CHECKSUM_FLAG);
    expect(withLock).toThrow(expect.objectContaining({ code: 'LTX_LOCK_PAGE' }));
  });

  it('a snapshot across the lock page streams through in constant memory (64 KiB pages)', () => {
    const pageSize = 65536;
    const lock = lockPgno(pageSize);
    const commit = lock + 1; // 1 GiB + 64 KiB: too big to hold, so encode and decode page by page
    const r = prng(SEED ^ 99);
    const special = new Map([1, lock - 1, lock + 1].map((p) => [p, randomPage(r, pageSize)]));
    const zero = new Uint8Array(pageSize);
    const pageAt = (p: number) => special.get(p) ?? zero;
    const zeroSum = (p: number) => pageChecksum(p, zero);
    let post = CHECKSUM_FLAG;
    for (let p = 1; p <= commit; p++) if (p !== lock) post ^= special.has(p) ? pageChecksum(p, pageAt(p)) : zeroSum(p);
    post |= CHECKSUM_FLAG;

    const enc = new LTXEncoder(makeHeader({ pageSize, commit, minTXID: 1n, maxTXID: 9n }));
    const dec = new LTXDecoder();
    const seen: number[] = [];
    const feed = (chunk: Uint8Array) => {
      for (const p of dec.push(chunk)) {
        if (!special.has(p.pgno)) continue;
        expect(p.data).toEqual(pageAt(p.pgno));
        seen.push(p.pgno);
      }
    };
    feed(enc.start());
    for (let p = 1; p <= commit; p++) if (p !== lock) feed(enc.encodePage(p, pageAt(p)));
    feed(enc.finish(post));
    const result = dec.end();
    expect(result.pageCount).toBe(commit - 1);
    expect(result.trailer.postApplyChecksum).toBe(post);
    expect(seen).toEqual([1, lock - 1, lock + 1]);
  });

  it('encoder refuses what the reference encoder refuses', () => {
    const h = makeHeader({ pageSize: 4096, commit: 3, minTXID: 1n, maxTXID: 1n });
    const p = new Uint8Array(4096);
    const code = (fn: () => unknown) => {
      try {
        fn();
        return 'OK';
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    expect(code(() => encodeLTX(h, [{ pgno: 2, data: p }]))).toBe('LTX_PAGE_ORDER');
    expect(code(() => encodeLTX(h, [{ pgno: 1, data: p }]))).toBe('LTX_SNAPSHOT_INCOMPLETE');
    expect(code(() => encodeLTX(h, [{ pgno: 4, data: p }]))).toBe('LTX_PAGE_OUT_OF_RANGE');
    expect(code(() => encodeLTX(h, [{ pgno: 1, data: p.subarray(1) }]))).toBe('LTX_INVALID_ARGUMENT');
    expect(code(() => encodeLTX({ ...h, pageSize: 1000 }, []))).toBe('LTX_BAD_PAGE_SIZE');
    const inc = makeHeader({ pageSize: 4096, commit: 3, minTXID: 2n, maxTXID: 2n, preApplyChecksum: CHECKSUM_FLAG });
    expect(
      code(() =>
        encodeLTX(
          inc,
          [
            { pgno: 2, data: p },
            { pgno: 2, data: p },
          ],
          CHECKSUM_FLAG,
        ),
      ),
    ).toBe('LTX_PAGE_ORDER');
    expect(code(() => encodeLTX(inc, [{ pgno: 2, data: p }]))).toBe('LTX_INVALID_ARGUMENT'); // post-apply required
    expect(code(() => encodeLTX({ ...inc, flags: 2, preApplyChecksum: 0n, commit: 0 }, []))).toBe('LTX_INVALID_ARGUMENT');
  });
});
