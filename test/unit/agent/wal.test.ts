// The SQLite WAL reader: header rules, the checksum, frames into committed transactions, and real WALs from node:sqlite.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type WALCursor,
  type WALHeader,
  type WALReadOptions,
  type WALTransaction,
  WALError,
  parseWALHeader,
  readWALHeader,
  readWALPage,
  readWALTransactions,
  sameGeneration,
  scanWAL,
  startCursor,
  walChecksum,
} from '../../../src/agent/wal.ts';
import { prng } from '../../helpers/prng.ts';
import { type WALFrameSpec, buildWAL, frameOffset, referenceChecksum } from '../../helpers/wal-builder.ts';

const SEED = 30070;
const dir = mkdtempSync(path.join(tmpdir(), 'ltx-wal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
/** Writes `bytes` to a fresh temp file and reads it with the async reader. */
async function readFile(bytes: Uint8Array, cursor?: WALCursor, opts?: WALReadOptions) {
  const p = path.join(dir, `w${fileNo++}.wal`);
  writeFileSync(p, bytes);
  const fh = await open(p, 'r');
  try {
    const header = parseWALHeader(bytes);
    return await readWALTransactions(fh, header, cursor ?? startCursor(header), opts);
  } finally {
    await fh.close();
  }
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(WALError);
    return (e as WALError).code;
  }
  return undefined;
}

/** Transactions as plain data for comparisons. */
const plain = (txs: WALTransaction[]) => txs.map((t) => ({ pages: [...t.pages], commit: t.commit, end: t.end }));

const page = (ps: number, fill: number) => new Uint8Array(ps).fill(fill);

describe('parseWALHeader', () => {
  it.each([512, 1024, 4096, 32768, 65536])('accepts page size %i in both byte orders', (ps) => {
    for (const bigEndian of [false, true]) {
      const h = parseWALHeader(buildWAL({ pageSize: ps, bigEndian, checkpointSeq: 7, salt1: 1, salt2: 0xfffffffe, frames: [] }));
      expect(h).toMatchObject({ bigEndian, version: 3007000, pageSize: ps, checkpointSeq: 7, salt1: 1, salt2: 0xfffffffe });
    }
  });

  const flip = (b: Uint8Array, i: number) => {
    b[i] ^= 0x01;
    return b;
  };
  it.each([
    ['empty', () => new Uint8Array(0), 'WAL_HEADER'],
    ['31 bytes', () => buildWAL({ pageSize: 4096, frames: [] }).subarray(0, 31), 'WAL_HEADER'],
    ['bad magic', () => buildWAL({ pageSize: 4096, magic: 0x377f0692, frames: [] }), 'WAL_MAGIC'],
    ['zero magic', () => new Uint8Array(32), 'WAL_MAGIC'],
    ['bad version', () => buildWAL({ pageSize: 4096, version: 3007001, frames: [] }), 'WAL_VERSION'],
    ['page size 256', () => buildWAL({ pageSize: 256, frames: [] }), 'WAL_PAGE_SIZE'],
    ['page size 0', () => buildWAL({ pageSize: 0, frames: [] }), 'WAL_PAGE_SIZE'],
    ['page size 3072', () => buildWAL({ pageSize: 3072, frames: [] }), 'WAL_PAGE_SIZE'],
    ['page size 131072', () => buildWAL({ pageSize: 131072, frames: [] }), 'WAL_PAGE_SIZE'],
    ['flipped salt', () => flip(buildWAL({ pageSize: 4096, frames: [] }), 19), 'WAL_HEADER_CHECKSUM'],
    ['flipped checkpoint seq', () => flip(buildWAL({ pageSize: 4096, frames: [] }), 12), 'WAL_HEADER_CHECKSUM'],
    ['flipped checksum2', () => flip(buildWAL({ pageSize: 4096, bigEndian: true, frames: [] }), 31), 'WAL_HEADER_CHECKSUM'],
  ] as const)('%s → %s', (_, bytes, code) => {
    expect(codeOf(() => parseWALHeader(bytes()))).toBe(code);
  });

  it('readWALHeader: null before a header exists, the header after', async () => {
    const p = path.join(dir, 'hdr.wal');
    writeFileSync(p, new Uint8Array(0));
    const fh = await open(p, 'r');
    try {
      expect(await readWALHeader(fh)).toBeNull();
      writeFileSync(p, buildWAL({ pageSize: 1024, frames: [] }));
      expect((await readWALHeader(fh))?.pageSize).toBe(1024);
    } finally {
      await fh.close();
    }
  });
});

describe('walChecksum', () => {
  it(`equals the reference sum in both byte orders at every alignment (seed ${SEED})`, () => {
    const r = prng(SEED);
    for (let round = 0; round < 200; round++) {
      const len = 8 * (1 + r.int(600));
      const shift = r.int(8);
      const bytes = r.bytes(len + 8).subarray(shift, shift + len);
      const bigEndian = r.int(2) === 1;
      const s0: [number, number] = [r.int(2 ** 32), r.int(2 ** 32)];
      const sum = { s1: s0[0], s2: s0[1] };
      walChecksum(bytes, 0, len, bigEndian, sum);
      expect([sum.s1, sum.s2]).toEqual(referenceChecksum(bytes, bigEndian, s0));
    }
  });
});

describe('frames into transactions (built WALs)', () => {
  for (const bigEndian of [false, true]) {
    const order = bigEndian ? 'big-endian' : 'little-endian';
    const ps = 512;
    const frames: WALFrameSpec[] = [
      { pgno: 1, data: page(ps, 1) },
      { pgno: 2, data: page(ps, 2) },
      { pgno: 1, data: page(ps, 3), commit: 2 }, // tx 1: page 1 written twice, last wins
      { pgno: 3, data: page(ps, 4) },
      { pgno: 5, data: page(ps, 5) }, // spilled past the final size: dropped
      { pgno: 2, data: page(ps, 6), commit: 3 }, // tx 2
      { pgno: 4, data: page(ps, 7), commit: 4 }, // tx 3: a one-frame transaction
    ];
    const wal = buildWAL({ pageSize: ps, bigEndian, frames });
    const dataAt = (i: number) => frameOffset(ps, i) + 24;

    it(`${order}: every commit, last writer wins, pages past commit dropped`, async () => {
      const r = scanWAL(wal);
      expect(r.header.bigEndian).toBe(bigEndian);
      expect(r.transactions.map((t) => [t.commit, [...t.pages]])).toEqual([
        [
          2,
          [
            [1, dataAt(2)],
            [2, dataAt(1)],
          ],
        ],
        [
          3,
          [
            [3, dataAt(3)],
            [2, dataAt(5)],
          ],
        ],
        [4, [[4, dataAt(6)]]],
      ]);
      expect(r.cursor.offset).toBe(wal.length);
      expect(r.transactions[2].end).toEqual(r.cursor);
      expect(plain((await readFile(wal)).transactions)).toEqual(plain(r.transactions));
      const fh = await open(path.join(dir, `w${fileNo - 1}.wal`), 'r');
      try {
        expect(await readWALPage(fh, dataAt(5), ps)).toEqual(page(ps, 6));
        await expect(readWALPage(fh, wal.length - ps + 1, ps)).rejects.toMatchObject({ code: 'WAL_READ' });
      } finally {
        await fh.close();
      }
    });

    it(`${order}: a transaction without its commit frame is not returned; the cursor stays`, async () => {
      const open3 = buildWAL({ pageSize: ps, bigEndian, frames: [...frames, { pgno: 6 }, { pgno: 7 }] });
      const r = scanWAL(open3);
      expect(r.transactions).toHaveLength(3);
      expect(r.cursor.offset).toBe(frameOffset(ps, 7));
      expect((await readFile(open3)).cursor).toEqual(r.cursor);
      // Reading again from that cursor finds nothing, until the commit frame arrives.
      expect(scanWAL(open3, { cursor: r.cursor }).transactions).toEqual([]);
      const done = buildWAL({ pageSize: ps, bigEndian, frames: [...frames, { pgno: 6 }, { pgno: 7, commit: 7 }] });
      const next = await readFile(done, r.cursor);
      expect(next.transactions.map((t) => [t.commit, [...t.pages.keys()]])).toEqual([[7, [6, 7]]]);
    });

    it(`${order}: a stale frame (earlier generation's salts) ends reading, not an error`, () => {
      const stale = [...frames];
      stale[3] = { ...stale[3], salts: [0x11223344 - 1, 0x55667788] };
      const r = scanWAL(buildWAL({ pageSize: ps, bigEndian, frames: stale }));
      expect(r.transactions.map((t) => t.commit)).toEqual([2]);
      expect(r.cursor.offset).toBe(frameOffset(ps, 3));
    });

    it.each([
      ['page data of an uncommitted frame', 3, 24 + 100],
      ['page data of a commit frame', 5, 24 + ps - 1],
      ['the commit field', 5, 7],
      ['the pgno', 4, 3],
      ['checksum1', 5, 19],
      ['checksum2', 5, 23],
    ])(`${order}: a flipped byte in %s ends reading at the previous commit`, async (_, frame, byte) => {
      const bad = wal.slice();
      bad[frameOffset(ps, frame) + byte] ^= 0x20;
      const r = scanWAL(bad);
      expect(r.transactions.map((t) => t.commit)).toEqual([2]);
      expect(r.cursor).toEqual(scanWAL(wal).transactions[0].end);
      expect((await readFile(bad)).cursor).toEqual(r.cursor);
    });

    it(`${order}: a torn last frame ends reading`, async () => {
      for (const cut of [1, 24, ps]) {
        const torn = wal.subarray(0, wal.length - cut);
        expect(scanWAL(torn).transactions.map((t) => t.commit)).toEqual([2, 3]);
        expect((await readFile(torn)).transactions.map((t) => t.commit)).toEqual([2, 3]);
      }
    });
  }

  it('pgno 0 ends reading', () => {
    const r = scanWAL(
      buildWAL({
        pageSize: 512,
        frames: [
          { pgno: 1, commit: 1 },
          { pgno: 0, commit: 1 },
        ],
      }),
    );
    expect(r.transactions).toHaveLength(1);
  });

  it('a cursor off a frame boundary → WAL_CURSOR', async () => {
    const wal = buildWAL({ pageSize: 512, frames: [{ pgno: 1, commit: 1 }] });
    const c = { ...startCursor(parseWALHeader(wal)), offset: 40 };
    expect(codeOf(() => scanWAL(wal, { cursor: c }))).toBe('WAL_CURSOR');
    await expect(readFile(wal, c)).rejects.toMatchObject({ code: 'WAL_CURSOR' });
  });

  it('after a WAL restart the old cursor reads nothing and sameGeneration says so', async () => {
    const ps = 1024;
    const gen1 = buildWAL({ pageSize: ps, salt1: 5, salt2: 99, frames: [1, 2, 3, 4].map((p) => ({ pgno: p, commit: p })) });
    const old = scanWAL(gen1);
    const oldHeader: WALHeader = old.header;
    // Generation 2 rewrites the WAL from the start with new salts; gen1's frames remain past its end.
    const gen2 = buildWAL({
      pageSize: ps,
      salt1: 6,
      salt2: 1234,
      frames: [
        { pgno: 1, commit: 4 },
        { pgno: 2, commit: 4 },
      ],
    });
    const file = gen1.slice();
    file.set(gen2);
    const newHeader = parseWALHeader(file);
    expect(sameGeneration(oldHeader, old.cursor)).toBe(true);
    expect(sameGeneration(newHeader, old.cursor)).toBe(false);
    // New header, old cursor: nothing. Old header, cursor mid-WAL: frames past it are gen1's, still valid;
    // at a cursor where gen2 frames now sit the salts fail.
    expect((await readFile(file, old.cursor)).transactions).toEqual([]);
    expect(scanWAL(file, { cursor: old.cursor }).cursor).toEqual(old.cursor);
    expect(scanWAL(gen2, { cursor: startCursor(oldHeader) }).transactions).toEqual([]);
    // gen2 from its own start: exactly its two transactions; gen1's leftover frames are stale.
    expect(scanWAL(file).transactions.map((t) => t.end.offset)).toEqual([frameOffset(ps, 1), frameOffset(ps, 2)]);
  });

  it(`random WALs: async reader = scanWAL at every chunk size and batch limit (seed ${SEED})`, async () => {
    const r = prng(SEED + 1);
    for (let round = 0; round < 12; round++) {
      const ps = [512, 1024, 4096][r.int(3)];
      const frames: WALFrameSpec[] = [];
      const n = 1 + r.int(40);
      for (let i = 0; i < n; i++) {
        frames.push({ pgno: 1 + r.int(12), data: r.bytes(ps), commit: r.int(3) === 0 ? 12 : undefined });
      }
      const wal = buildWAL({ pageSize: ps, bigEndian: r.int(2) === 1, frames });
      const torn = wal.subarray(0, wal.length - r.int(2) * r.int(ps));
      const all = scanWAL(torn);
      expect(all.transactions).toHaveLength(
        new Set(frames.flatMap((f, i) => (f.commit && frameOffset(ps, i + 1) <= torn.length ? [i] : []))).size,
      );
      for (const chunkBytes of [1, 3 * (24 + ps), 1 << 20]) {
        expect(plain((await readFile(torn, undefined, { chunkBytes })).transactions)).toEqual(plain(all.transactions));
      }
      // In batches: one transaction at a time, or ~2 frames of bytes at a time; each batch ends at a boundary.
      for (const limit of [{ maxTransactions: 1 }, { maxBytes: 2 * (24 + ps) }] as WALReadOptions[]) {
        const got: WALTransaction[] = [];
        let cursor = startCursor(all.header);
        for (;;) {
          const b = await readFile(torn, cursor, { ...limit, chunkBytes: 2 * (24 + ps) });
          if (b.transactions.length === 0) break;
          if (limit.maxTransactions) expect(b.transactions).toHaveLength(1);
          const sync = scanWAL(torn, { cursor, ...limit });
          expect(plain(sync.transactions)).toEqual(plain(b.transactions));
          got.push(...b.transactions);
          cursor = b.cursor;
        }
        expect(plain(got)).toEqual(plain(all.transactions));
        expect(cursor).toEqual(all.cursor);
      }
    }
  });
});

describe('real WALs from node:sqlite', () => {
  /** A database in WAL mode with checkpoints off; `base` is the db file after a TRUNCATE checkpoint. */
  function setup(ps: number, cacheSize?: number) {
    const file = path.join(dir, `real-${ps}-${fileNo++}.db`);
    const db = new DatabaseSync(file);
    db.exec(`PRAGMA page_size=${ps}; PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;`);
    if (cacheSize) db.exec(`PRAGMA cache_size=${cacheSize}`);
    db.exec('CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, b BLOB); CREATE INDEX t_v ON t(v);');
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const base = new Uint8Array(readFileSync(file));
    const sizes: number[] = [];
    const pageCount = () => Number((db.prepare('PRAGMA page_count').get() as { page_count: number }).page_count);
    return { file, db, base, sizes, commit: () => sizes.push(pageCount()) };
  }

  /** A few transactions: inserts, updates, deletes, a blob over several overflow pages; optionally VACUUM. */
  function workload(env: ReturnType<typeof setup>, ps: number, seed: number, vacuum: boolean): void {
    const r = prng(seed);
    const ins = env.db.prepare('INSERT INTO t(v, b) VALUES (?, ?)');
    const text = (n: number) => Array.from({ length: n }, () => String.fromCharCode(97 + r.int(26))).join('');
    for (let tx = 0; tx < 4; tx++) {
      env.db.exec('BEGIN');
      for (let i = 0; i < 20 + r.int(200); i++) ins.run(text(5 + r.int(300)), r.bytes(r.int(64)));
      env.db.exec('COMMIT');
      env.commit();
    }
    env.db.prepare("UPDATE t SET v = v || 'x' WHERE id % 3 = ?").run(r.int(3));
    env.commit();
    ins.run('big', r.bytes(3 * ps + 123)); // spans overflow pages
    env.commit();
    env.db.exec('DELETE FROM t WHERE id % 2 = 0');
    env.commit();
    if (vacuum) {
      env.db.exec('VACUUM'); // shrinks the database: the commit size goes down
      env.commit();
    }
  }

  /** `base` with every transaction's pages written and the file cut to its commit size. */
  function apply(base: Uint8Array, wal: Uint8Array, ps: number, txs: WALTransaction[]): Uint8Array {
    let db = base;
    for (const t of txs) {
      const next = new Uint8Array(t.commit * ps);
      next.set(db.subarray(0, Math.min(db.length, next.length)));
      for (const [pgno, off] of t.pages) next.set(wal.subarray(off, off + ps), (pgno - 1) * ps);
      db = next;
    }
    return db;
  }

  it.each([
    [512, undefined, true],
    [4096, undefined, true],
    [4096, 8, false], // a tiny cache spills frames mid-transaction (some rewritten in place before commit)
    [65536, undefined, true],
  ] as const)(`page size %i, cache_size %s: every commit, applied = the checkpointed db (seed ${SEED})`, async (ps, cache, vacuum) => {
    const env = setup(ps, cache);
    try {
      workload(env, ps, SEED + ps, vacuum);
      const walPath = `${env.file}-wal`;
      const wal = new Uint8Array(readFileSync(walPath));
      const r = scanWAL(wal);
      expect(r.header.pageSize).toBe(ps);
      expect(r.transactions.map((t) => t.commit)).toEqual(env.sizes);
      expect(r.cursor.offset).toBe(wal.length);

      // Incremental: the async reader from the end sees nothing; two more commits → exactly those two.
      const fh = await open(walPath, 'r');
      try {
        const header = (await readWALHeader(fh)) as WALHeader;
        const first = await readWALTransactions(fh, header, startCursor(header));
        expect(plain(first.transactions)).toEqual(plain(r.transactions));
        expect((await readWALTransactions(fh, header, first.cursor)).transactions).toEqual([]);
        env.db.prepare('INSERT INTO t(v) VALUES (?)').run('after');
        env.commit();
        env.db.exec("BEGIN; UPDATE t SET v = 'again' WHERE id = 1; INSERT INTO t(v) VALUES ('z'); COMMIT;");
        env.commit();
        const more = await readWALTransactions(fh, header, first.cursor);
        expect(more.transactions.map((t) => t.commit)).toEqual(env.sizes.slice(-2));
        const [pgno, off] = [...more.transactions[1].pages][0];
        const wal2 = new Uint8Array(readFileSync(walPath));
        expect(await readWALPage(fh, off, ps)).toEqual(wal2.subarray(off, off + ps));
        expect(pgno).toBeGreaterThan(0);

        const applied = apply(env.base, wal2, ps, [...first.transactions, ...more.transactions]);
        env.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
        expect(Buffer.from(applied).equals(readFileSync(env.file))).toBe(true);
      } finally {
        await fh.close();
      }
    } finally {
      env.db.close();
    }
  });
});
