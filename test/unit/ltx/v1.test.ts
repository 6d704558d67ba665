// The v1 format (LiteFS): streaming LZ4 frames, strict decoding by code, sniffing, the v1 → v3 converter, v1 snapshots.

import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { DatabaseState, applyLTX } from '../../../src/ltx/apply.ts';
import { MemoryDatabase } from '../../../src/ltx/memory-database.ts';
import { databaseChecksum, pageChecksum } from '../../../src/ltx/checksum.ts';
import { CHECKSUM_FLAG, EMPTY_DB_CHECKSUM, lockPgno } from '../../../src/ltx/constants.ts';
import { decodeLTX } from '../../../src/ltx/decoder.ts';
import { ByteQueue } from '../../../src/ltx/byte-queue.ts';
import { LTXError } from '../../../src/ltx/errors.ts';
import { type Header, makeHeader } from '../../../src/ltx/header.ts';
import { LZ4FrameReader, LZ4FrameWriter } from '../../../src/ltx/lz4-frame-stream.ts';
import { convertV1ToCurrent, convertV1ToCurrentChunks, sniffLTXGeneration } from '../../../src/ltx/v1-convert.ts';
import { V1Decoder, decodeV1 } from '../../../src/ltx/v1.ts';
import { V1Encoder, encodeV1, encodeV1SnapshotFromDatabase } from '../../../src/ltx/v1-encoder.ts';
import { xxh32 } from '../../../src/ltx/xxh32.ts';
import { XXH32 } from '../../../src/ltx/xxh32-stream.ts';
import { prng } from '../../helpers/prng.ts';
import { buildV1, concat } from '../../helpers/v1-builder.ts';
import { loadManifest, readVector } from '../../helpers/vectors.ts';

interface Lz4js {
  compress(src: Uint8Array): Uint8Array;
  decompress(src: Uint8Array, maxSize?: number): Uint8Array;
}
const lz4js = createRequire(import.meta.url)('lz4js') as Lz4js;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof LTXError) return e.code;
    throw e;
  }
  return undefined;
}

async function asyncCodeOf(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof LTXError) return e.code;
    throw e;
  }
  return undefined;
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of it) out.push(c);
  return out;
}

/** Splits `bytes` into chunks of random sizes (1..max). */
function chunksOf(bytes: Uint8Array, seed: number, max = 5000): Uint8Array[] {
  const r = prng(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; ) {
    const n = 1 + r.int(max);
    out.push(bytes.slice(i, i + n));
    i += n;
  }
  return out;
}

const PS = 4096;
/** A page that compresses (mostly one byte) with some noise, so LZ4 blocks are neither trivial nor stored. */
function pageOf(seed: number, size = PS): Uint8Array {
  const r = prng(seed);
  const p = new Uint8Array(size).fill(seed & 0xff);
  for (let i = 0; i < size / 8; i++) p[r.int(size)] = r.int(256);
  return p;
}

function snapshotPages(commit: number, size = PS, seed = 1): { pgno: number; data: Uint8Array }[] {
  const out = [];
  const lock = lockPgno(size);
  for (let p = 1; p <= commit; p++) if (p !== lock) out.push({ pgno: p, data: pageOf(seed * 1000 + p, size) });
  return out;
}

function sumOf(pages: { pgno: number; data: Uint8Array }[]): bigint {
  let s = EMPTY_DB_CHECKSUM;
  for (const p of pages) s ^= pageChecksum(p.pgno, p.data);
  return CHECKSUM_FLAG | s;
}

describe('XXH32 (incremental)', () => {
  it('equals the one-shot hash for every split', () => {
    const r = prng(7);
    for (const len of [0, 1, 3, 15, 16, 17, 31, 32, 33, 100, 4099]) {
      const data = r.bytes(len);
      for (let t = 0; t < 5; t++) {
        const h = new XXH32();
        for (const c of chunksOf(data, len * 10 + t, 20)) h.update(c);
        expect(h.digest(), `len ${len}`).toBe(xxh32(data));
      }
    }
  });
});

describe('LZ4 frame stream', () => {
  const read = (frame: Uint8Array, seed = 1): { out: Uint8Array; rest: number } => {
    const q = new ByteQueue();
    const r = new LZ4FrameReader();
    const parts: Uint8Array[] = [];
    for (const c of chunksOf(frame, seed, 3000)) {
      q.push(c);
      for (let b = r.read(q); b; b = r.read(q)) parts.push(b);
    }
    expect(r.ended).toBe(true);
    return { out: concat(parts), rest: q.length };
  };

  it('our frames read back, through lz4js too; lz4js frames (linked 4 MiB blocks) read here', () => {
    const r = prng(3);
    for (const len of [0, 1, 1000, 65536, 65537, 300_000]) {
      const data = len > 1000 ? concat([r.bytes(len / 4), new Uint8Array(len - len / 4).fill(9)]).slice(0, len) : r.bytes(len);
      const w = new LZ4FrameWriter();
      const frame = concat([w.start(), ...chunksOf(data, len, 7000).flatMap((c) => w.write(c)), w.finish()]);
      expect(read(frame).out).toEqual(data);
      expect(lz4js.decompress(frame, len + 1)).toEqual(data);
      expect(read(concat([lz4js.compress(data), Uint8Array.of(1, 2, 3)]), len + 2)).toEqual({ out: data, rest: 3 });
    }
  });

  it('incompressible blocks are stored; corrupt frames fail with LTX_BAD_PAGE_DATA', () => {
    const data = prng(5).bytes(70_000);
    const w = new LZ4FrameWriter();
    const frame = concat([w.start(), ...w.write(data), w.finish()]);
    expect(frame[10] & 0x80).toBe(0x80); // first block stored
    expect(read(frame).out).toEqual(data);
    for (const at of [0, 4, 5, 6, frame.length - 1]) {
      const bad = frame.slice();
      bad[at] ^= 0x40;
      expect(
        codeOf(() => read(bad)),
        `byte ${at}`,
      ).toBe('LTX_BAD_PAGE_DATA');
    }
  });
});

describe('v1 decoder', () => {
  it('reads the Litestream v1 fixture (uncompressed, 3 pages) and converts it', async () => {
    const bytes = readVector('negative/legacy-v1-litestream-testdata.ltx');
    const d = decodeV1(bytes);
    expect(d.header).toMatchObject({
      flags: 0,
      pageSize: 4096,
      commit: 10,
      minTXID: 13n,
      maxTXID: 13n,
      preApplyChecksum: 0x9c74a15b4e4f246cn,
    });
    expect(d.pages.map((p) => p.pgno)).toEqual([1, 7, 8]);
    expect(d.trailer.postApplyChecksum).toBe(0xfe3831a381c602b9n);
    expect(d.size).toBe(bytes.length);
    expect(new TextDecoder().decode(d.pages[0].data.subarray(0, 15))).toBe('SQLite format 3');
    expect(sniffLTXGeneration(bytes)).toBe('v1');
    const out = concat(await collect(convertV1ToCurrentChunks(chunksOf(bytes, 2, 500))));
    const cur = decodeLTX(out);
    expect(cur.header).toEqual(d.header);
    expect(cur.trailer.postApplyChecksum).toBe(d.trailer.postApplyChecksum);
    expect(cur.pages.map((p) => [p.pgno, p.data])).toEqual(d.pages.map((p) => [p.pgno, p.data]));
    expect(sniffLTXGeneration(out)).toBe('current');
  });

  it.each([
    ['compressed snapshot', true, 1n],
    ['uncompressed snapshot', false, 1n],
    ['compressed incremental', true, 5n],
    ['uncompressed incremental', false, 5n],
  ])('%s round-trips at 512/4096/65536 bytes, any chunking', (_name, compress, minTXID) => {
    for (const size of [512, 4096, 65536]) {
      const commit = 40;
      const pages = minTXID === 1n ? snapshotPages(commit, size) : snapshotPages(commit, size).filter((p) => p.pgno % 3 === 1);
      const header = makeHeader({
        flags: compress ? 1 : 0,
        pageSize: size,
        commit,
        minTXID,
        maxTXID: minTXID + 2n,
        timestamp: 1_700_000_000_123,
        preApplyChecksum: minTXID === 1n ? 0n : CHECKSUM_FLAG | 77n,
        nodeID: 42n,
      });
      const post = minTXID === 1n ? undefined : CHECKSUM_FLAG | 99n;
      const file = encodeV1(header, pages, post);
      if (compress) expect(file.length).toBeLessThan(encodeV1({ ...header, flags: 0 }, pages, post).length);
      for (const seed of [1, 2]) {
        const dec = new V1Decoder();
        const got: number[] = [];
        for (const c of chunksOf(file, seed * size, seed === 1 ? 17 : 9000)) {
          dec.write(c);
          for (let p = dec.nextPage(); p; p = dec.nextPage()) {
            expect(p.data).toEqual(pages[got.length].data);
            got.push(p.pgno);
          }
        }
        const r = dec.end();
        expect(got).toEqual(pages.map((p) => p.pgno));
        expect(r.header).toEqual(header);
        expect(r.size).toBe(file.length);
        expect(r.trailer.postApplyChecksum).toBe(post ?? sumOf(pages));
      }
    }
  });

  it('a commit-0 file and an empty incremental decode', () => {
    const del = encodeV1(
      makeHeader({ flags: 1, pageSize: PS, commit: 0, minTXID: 3n, maxTXID: 3n, preApplyChecksum: CHECKSUM_FLAG | 5n }),
      [],
      EMPTY_DB_CHECKSUM,
    );
    expect(decodeV1(del).pageCount).toBe(0);
    expect(sniffLTXGeneration(del)).toBe('v1');
    const none = encodeV1(
      makeHeader({ pageSize: PS, commit: 3, minTXID: 3n, maxTXID: 3n, preApplyChecksum: CHECKSUM_FLAG | 5n }),
      [],
      CHECKSUM_FLAG | 5n,
    );
    expect(decodeV1(none).pageCount).toBe(0);
    expect(sniffLTXGeneration(none)).toBe('v1');
  });

  const incr = (over: Partial<Header> = {}): Header =>
    makeHeader({ flags: 1, pageSize: PS, commit: 10, minTXID: 2n, maxTXID: 2n, preApplyChecksum: CHECKSUM_FLAG | 1n, ...over });
  const twoPages = [
    { pgno: 2, data: pageOf(2) },
    { pgno: 5, data: pageOf(5) },
  ];
  const POST = CHECKSUM_FLAG | 2n;

  it.each<[string, () => Uint8Array, string]>([
    ['bad magic', () => buildV1({ header: incr(), pages: twoPages, postApplyChecksum: POST, headerPatch: [[0, 0x58]] }), 'LTX_BAD_MAGIC'],
    [
      'flag 0x2 (v3 NoChecksum) is not v1',
      () => buildV1({ header: incr({ flags: 2 }), pages: twoPages, postApplyChecksum: POST }),
      'LTX_BAD_FLAGS',
    ],
    ['unknown flag', () => buildV1({ header: incr({ flags: 0x10 }), pages: twoPages, postApplyChecksum: POST }), 'LTX_BAD_FLAGS'],
    ['page size', () => buildV1({ header: incr({ pageSize: 1000 }), pages: [], postApplyChecksum: POST }), 'LTX_BAD_PAGE_SIZE'],
    ['min TXID 0', () => buildV1({ header: incr({ minTXID: 0n }), pages: twoPages, postApplyChecksum: POST }), 'LTX_BAD_TXID'],
    ['TXIDs out of order', () => buildV1({ header: incr({ minTXID: 3n }), pages: twoPages, postApplyChecksum: POST }), 'LTX_BAD_TXID'],
    [
      'incremental without pre-apply',
      () => buildV1({ header: incr({ preApplyChecksum: 0n }), pages: twoPages, postApplyChecksum: POST }),
      'LTX_BAD_HEADER',
    ],
    [
      'pre-apply without bit 63',
      () => buildV1({ header: incr({ preApplyChecksum: 5n }), pages: twoPages, postApplyChecksum: POST }),
      'LTX_BAD_HEADER',
    ],
    [
      'wal offset without size',
      () => buildV1({ header: incr({ walOffset: 32n }), pages: twoPages, postApplyChecksum: POST }),
      'LTX_BAD_HEADER',
    ],
    [
      'reserved byte',
      () => buildV1({ header: incr(), pages: twoPages, postApplyChecksum: POST, headerPatch: [[90, 1]] }),
      'LTX_RESERVED_SET',
    ],
    ['pages out of order', () => buildV1({ header: incr(), pages: [...twoPages].reverse(), postApplyChecksum: POST }), 'LTX_PAGE_ORDER'],
    [
      'page beyond commit',
      () => buildV1({ header: incr({ commit: 4 }), pages: twoPages, postApplyChecksum: POST }),
      'LTX_PAGE_OUT_OF_RANGE',
    ],
    [
      'lock page',
      () => buildV1({ header: incr({ commit: 300_000 }), pages: [{ pgno: lockPgno(PS), data: pageOf(1) }], postApplyChecksum: POST }),
      'LTX_LOCK_PAGE',
    ],
    [
      'incomplete snapshot',
      () => {
        const pages = snapshotPages(5).slice(0, 4);
        return buildV1({ header: incr({ minTXID: 1n, preApplyChecksum: 0n, commit: 5 }), pages, postApplyChecksum: sumOf(pages) });
      },
      'LTX_SNAPSHOT_INCOMPLETE',
    ],
    [
      'snapshot post-apply',
      () => buildV1({ header: incr({ minTXID: 1n, preApplyChecksum: 0n, commit: 5 }), pages: snapshotPages(5), postApplyChecksum: POST }),
      'LTX_POST_APPLY_MISMATCH',
    ],
    [
      'commit 0 with a non-empty checksum',
      () => buildV1({ header: incr({ commit: 0 }), pages: [], postApplyChecksum: POST }),
      'LTX_POST_APPLY_MISMATCH',
    ],
    ['post-apply without bit 63', () => buildV1({ header: incr(), pages: twoPages, postApplyChecksum: 2n }), 'LTX_BAD_TRAILER'],
    [
      'file checksum',
      () => buildV1({ header: incr(), pages: twoPages, postApplyChecksum: POST, fileChecksum: CHECKSUM_FLAG | 1n }),
      'LTX_FILE_CHECKSUM_MISMATCH',
    ],
    [
      'a flipped page byte (uncompressed)',
      () => {
        const f = buildV1({ header: incr({ flags: 0 }), pages: twoPages, postApplyChecksum: POST });
        f[100 + 4 + 10] ^= 1;
        return f;
      },
      'LTX_FILE_CHECKSUM_MISMATCH',
    ],
    [
      'data after the terminator in the frame',
      () => buildV1({ header: incr(), pages: twoPages, postApplyChecksum: POST, afterTerminator: Uint8Array.of(0) }),
      'LTX_BAD_PAGE_DATA',
    ],
    [
      'frame ends before the terminator',
      () => buildV1({ header: incr(), pages: twoPages, postApplyChecksum: POST, terminator: new Uint8Array(0) }),
      'LTX_TRUNCATED',
    ],
    [
      'frame content checksum',
      () =>
        buildV1({
          header: incr(),
          pages: twoPages,
          postApplyChecksum: POST,
          patchFrame: (f) => {
            f[f.length - 1] ^= 1;
            return f;
          },
        }),
      'LTX_BAD_PAGE_DATA',
    ],
    [
      'trailing bytes',
      () => buildV1({ header: incr(), pages: twoPages, postApplyChecksum: POST, trailing: Uint8Array.of(0) }),
      'LTX_TRAILING_DATA',
    ],
    ['truncated trailer', () => buildV1({ header: incr(), pages: twoPages, postApplyChecksum: POST }).slice(0, -3), 'LTX_TRUNCATED'],
    [
      'truncated page',
      () => buildV1({ header: incr({ flags: 0 }), pages: twoPages, postApplyChecksum: POST }).slice(0, 2000),
      'LTX_TRUNCATED',
    ],
    ['header only', () => buildV1({ header: incr(), pages: twoPages, postApplyChecksum: POST }).slice(0, 100), 'LTX_TRUNCATED'],
  ])('rejects: %s', async (_name, make, code) => {
    const bytes = make();
    expect(codeOf(() => decodeV1(bytes))).toBe(code);
    // The converter fails the same way and never yields a complete v3 file.
    const out: Uint8Array[] = [];
    expect(
      await asyncCodeOf(async () => {
        for await (const c of convertV1ToCurrentChunks(chunksOf(bytes, 3, 700))) out.push(c);
      }),
    ).toBe(code);
    expect(codeOf(() => decodeLTX(concat(out)))).not.toBeUndefined();
  });

  it('mutations of a valid compressed file only ever raise LTXError, or decode to the same pages', () => {
    const pages = snapshotPages(12).filter((p) => p.pgno > 1);
    const file = encodeV1(incr({ commit: 12 }), pages, POST);
    const r = prng(11);
    let rejected = 0;
    for (let i = 0; i < 1500; i++) {
      const bad = file.slice();
      const n = 1 + r.int(3);
      for (let k = 0; k < n; k++) bad[r.int(bad.length)] ^= 1 << r.int(8);
      const input = i % 2 ? bad : bad.slice(0, r.int(bad.length));
      const code = codeOf(() => decodeV1(input));
      if (code) rejected++;
      // An LZ4 match can be re-pointed at identical bytes: then the content, and so the checksum, is unchanged.
      else expect(decodeV1(input).pages.map((p) => p.data)).toEqual(pages.map((p) => p.data));
    }
    expect(rejected).toBeGreaterThan(1400);
  });
});

describe('sniffLTXGeneration', () => {
  const manifest = loadManifest();

  it('says current for every reference v3 file (block, legacy frame, NoChecksum), from a prefix', () => {
    for (const f of manifest.files) {
      const bytes = readVector(f.path);
      expect(sniffLTXGeneration(bytes), f.path).toBe('current');
      let decided: string | undefined;
      for (let n = 8; decided === undefined; n += 37)
        decided = sniffLTXGeneration(bytes.subarray(0, Math.min(n, bytes.length)), n >= bytes.length);
      expect(decided, f.path).toBe('current');
    }
  });

  it('says v1 for pages that begin like v3 frame headers (00 01 + a small size, 00 00 + no LZ4 magic)', () => {
    const look = new Uint8Array(PS).fill(3);
    look.set([0, 1, 0, 0, 0, 16], 0);
    const legacyish = new Uint8Array(PS).fill(3);
    legacyish.set([0, 0, 4, 0x22, 0x4d, 0x19], 0);
    for (const data of [look, legacyish]) {
      const f = encodeV1(
        makeHeader({ pageSize: PS, commit: 9, minTXID: 4n, maxTXID: 4n, preApplyChecksum: CHECKSUM_FLAG | 1n }),
        [{ pgno: 9, data }],
        CHECKSUM_FLAG | 3n,
      );
      expect(sniffLTXGeneration(f)).toBe('v1');
      expect(sniffLTXGeneration(f.subarray(0, 140))).toBe('v1');
      expect(decodeV1(f).pages[0].data).toEqual(data);
    }
  });

  it('waits for more bytes when a v3 block frame is not all there', () => {
    const bytes = readVector(manifest.files.find((f) => f.path.startsWith('block-ps4096/'))!.path);
    expect(sniffLTXGeneration(bytes.subarray(0, 50))).toBeUndefined();
    expect(sniffLTXGeneration(bytes.subarray(0, 112))).toBeUndefined();
  });
});

describe('convertV1ToCurrent', () => {
  it('a v1 chain (snapshot, compressed and plain incrementals, a shrink) applies as v3 to the same database', async () => {
    const r = prng(21);
    const pages = new Map<number, Uint8Array>();
    let commit = 30;
    const state = new DatabaseState();
    const db = new MemoryDatabase();
    let checksum = 0n;
    for (let txid = 1n; txid <= 12n; txid++) {
      const changed: { pgno: number; data: Uint8Array }[] = [];
      if (txid === 1n) {
        for (let p = 1; p <= commit; p++) changed.push({ pgno: p, data: pageOf(r.int(1e9)) });
      } else {
        if (txid === 7n) commit = 20;
        if (txid === 9n) commit = 35;
        const set = new Set<number>();
        for (let k = 0; k < 5; k++) set.add(1 + r.int(commit));
        for (const p of [...set].sort((a, b) => a - b))
          changed.push({ pgno: p, data: txid % 4n === 0n ? r.bytes(PS) : pageOf(r.int(1e9)) });
      }
      for (const p of [...pages.keys()]) if (p > commit) pages.delete(p);
      for (const p of changed) pages.set(p.pgno, p.data);
      const post = databaseChecksum(PS, commit, (p) => pages.get(p) ?? new Uint8Array(PS));
      const header = makeHeader({
        flags: txid % 2n ? 1 : 0,
        pageSize: PS,
        commit,
        minTXID: txid,
        maxTXID: txid,
        timestamp: Number(txid),
        preApplyChecksum: checksum,
      });
      const v1 = encodeV1(header, changed, txid === 1n ? undefined : post);
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          for (const chunk of chunksOf(v1, Number(txid), 3000)) c.enqueue(chunk);
          c.close();
        },
      });
      const out = concat(await collect(convertV1ToCurrent(stream)));
      const applied = await applyLTX(state, [out], db);
      expect(applied.header).toEqual({ ...header, flags: 0 });
      expect(applied.trailer.postApplyChecksum).toBe(post);
      checksum = post;
    }
    const want = new Uint8Array(commit * PS);
    for (const [p, data] of pages) want.set(data, (p - 1) * PS);
    expect(db.toBytes()).toEqual(want);
    expect(state.checksum).toBe(checksum);
  });

  it('a bad input errors the output stream before its last chunk', async () => {
    const file = buildV1({
      header: makeHeader({ flags: 1, pageSize: PS, commit: 4, minTXID: 2n, maxTXID: 2n, preApplyChecksum: CHECKSUM_FLAG | 1n }),
      pages: [{ pgno: 1, data: pageOf(1) }],
      postApplyChecksum: CHECKSUM_FLAG | 2n,
      fileChecksum: CHECKSUM_FLAG,
    });
    const reader = convertV1ToCurrent(new Blob([file]).stream()).getReader();
    const first = await reader.read();
    expect(first.value?.length).toBe(100);
    await expect(reader.read()).rejects.toMatchObject({ code: 'LTX_FILE_CHECKSUM_MISMATCH' });
  });
});

describe('v1 encoder and snapshots', () => {
  it('refuses what the v0.3 encoder refuses', () => {
    const h = makeHeader({ pageSize: PS, commit: 3, minTXID: 1n, maxTXID: 1n });
    const enc = new V1Encoder(h);
    enc.start();
    expect(codeOf(() => enc.encodePage(2, pageOf(2)))).toBe('LTX_PAGE_ORDER');
    expect(codeOf(() => enc.encodePage(4, pageOf(4)))).toBe('LTX_PAGE_OUT_OF_RANGE');
    enc.encodePage(1, pageOf(1));
    expect(codeOf(() => enc.finish())).toBe('LTX_SNAPSHOT_INCOMPLETE');
    expect(codeOf(() => new V1Encoder(makeHeader({ flags: 2, pageSize: PS, commit: 1, minTXID: 1n, maxTXID: 1n })).start())).toBe(
      'LTX_BAD_FLAGS',
    );
    const inc = new V1Encoder(makeHeader({ pageSize: PS, commit: 3, minTXID: 2n, maxTXID: 2n, preApplyChecksum: CHECKSUM_FLAG }));
    inc.start();
    expect(codeOf(() => inc.finish())).toBe('LTX_INVALID_ARGUMENT');
  });

  it('encodeV1SnapshotFromDatabase: the file bytes as a verified v1 snapshot, checked length and checksum', async () => {
    const pages = snapshotPages(50);
    const file = concat(pages.map((p) => p.data));
    const sum = sumOf(pages);
    for (const compress of [true, false]) {
      const out = concat(
        await collect(
          encodeV1SnapshotFromDatabase(chunksOf(file, 4, 9000), {
            pageSize: PS,
            commit: 50,
            maxTXID: 9n,
            timestamp: 5,
            compress,
            expectedChecksum: sum,
          }),
        ),
      );
      const d = decodeV1(out);
      expect(d.header).toMatchObject({ flags: compress ? 1 : 0, minTXID: 1n, maxTXID: 9n, commit: 50, timestamp: 5 });
      expect(d.pages.map((p) => p.data)).toEqual(pages.map((p) => p.data));
      expect(d.trailer.postApplyChecksum).toBe(sum);
    }
    const run = (bytes: Uint8Array, expectedChecksum?: bigint) =>
      asyncCodeOf(() =>
        collect(encodeV1SnapshotFromDatabase([bytes], { pageSize: PS, commit: 50, maxTXID: 9n, timestamp: 5, expectedChecksum })),
      );
    expect(await run(file.subarray(0, file.length - 1))).toBe('LTX_TRUNCATED');
    expect(await run(concat([file, new Uint8Array(PS)]))).toBe('LTX_TRAILING_DATA');
    expect(await run(file, CHECKSUM_FLAG | 1n)).toBe('LTX_POST_APPLY_MISMATCH');
  });
});
