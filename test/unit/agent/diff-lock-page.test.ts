// The lock page (the page holding byte 2^30) in whole-database scans and diffs: never checksummed, never in a batch, never encoded — over synthetic databases past 1 GiB.
//
// A synthetic database is a page map (absent pages are zeros) served through the agent's MainFile
// port, so a 1 GiB+ database costs no disk and little memory; only a -wal file is ever written. Every
// expectation is computed here: the lock page number written out (2^30 / pageSize + 1), the checksum
// as the XOR of every other page's pageChecksum, the pages a diff must carry by comparing bytes. A lock
// page full of junk (SQLite never writes it, but the agent must not trust that) is in every version.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Pos } from '../../../src/agent/agent-state.ts';
import { type Batch, type DiffBase, diffBatch, encodeBatch, materializeWALPages } from '../../../src/agent/batch.ts';
import { type LocalScan, type MainFile, scanDatabase } from '../../../src/agent/local-pages.ts';
import {
  CHECKSUM_FLAG,
  DatabaseState,
  EMPTY_DB_CHECKSUM,
  MemoryPageChecksums,
  type PageSink,
  applyLTX,
  databaseChecksum,
  lockPgno,
  pageChecksum,
} from '../../../src/ltx/index.ts';
import { prng } from '../../helpers/prng.ts';
import { buildWAL } from '../../helpers/wal-builder.ts';

const SEED = 30_1073;
const PS = 65_536;
/** The page that holds byte offset 2^30 at 65536-byte pages: 16385. */
const LOCK = 2 ** 30 / PS + 1;
const NOW = 1_700_000_000_000;
const ZERO = new Uint8Array(PS);

const dir = mkdtempSync(path.join(tmpdir(), 'ltx-lock-page-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const r = prng(SEED);
console.log(`diff-lock-page seed ${SEED}`);

/** A database: its size in pages and the pages that are not all zeros. */
interface Synthetic {
  name: string;
  commit: number;
  pages: Map<number, Uint8Array>;
}

/** Page 1: a SQLite header that says 65536-byte pages, WAL mode and `commit` pages (trusted: change counter = version-valid-for). */
function headerPage(commit: number): Uint8Array {
  const p = r.bytes(PS);
  p.set(new TextEncoder().encode('SQLite format 3\0'));
  const v = new DataView(p.buffer);
  v.setUint16(16, 1);
  p[18] = 2;
  p[19] = 2;
  v.setUint32(24, 7);
  v.setUint32(28, commit);
  v.setUint32(92, 7);
  return p;
}

/** A version of `commit` pages: `base`'s pages up to `commit` (if any), a new header when the size changed, `random` pages rewritten, and junk in the lock page. */
function version(name: string, commit: number, random: number[], base?: Synthetic): Synthetic {
  const pages = new Map<number, Uint8Array>();
  for (const [pgno, data] of base?.pages ?? []) if (pgno <= commit) pages.set(pgno, data);
  if (!base || base.commit !== commit) pages.set(1, headerPage(commit));
  for (const pgno of random) pages.set(pgno, r.bytes(PS));
  if (commit >= LOCK) pages.set(LOCK, new Uint8Array(PS).fill(0xa5 ^ random.length));
  return { name, commit, pages };
}

const pageOf = (v: Synthetic, pgno: number): Uint8Array => v.pages.get(pgno) ?? ZERO;

/** The agent's view of a synthetic main file: reads past the end are zeros, like the real one. */
function mainOf(v: Synthetic): MainFile {
  return {
    file: path.join(dir, `${v.name}.db`),
    mainSize: async () => v.commit * PS,
    readMain: async (into, offset) => {
      into.fill(0);
      const end = offset + into.length;
      for (const [pgno, data] of v.pages) {
        const at = (pgno - 1) * PS;
        if (at >= end || at + PS <= offset) continue;
        const from = Math.max(at, offset);
        into.set(data.subarray(from - at, Math.min(at + PS, end) - at), from - offset);
      }
    },
  };
}

const zeroSums = new Map<number, bigint>();
/** The checksum of a version: the XOR of pageChecksum over pages 1..commit but LOCK, with the flag bit (zero pages' sums kept between calls). */
function expectedChecksum(v: Synthetic): bigint {
  let c = 0n;
  for (let pgno = 1; pgno <= v.commit; pgno++) {
    if (pgno === LOCK) continue;
    const data = v.pages.get(pgno);
    if (data) c ^= pageChecksum(pgno, data);
    else {
      let z = zeroSums.get(pgno);
      if (z === undefined) zeroSums.set(pgno, (z = pageChecksum(pgno, ZERO)));
      c ^= z;
    }
  }
  return CHECKSUM_FLAG | c;
}

/** The pages a diff from `from` to `to` must carry: those whose bytes differ and every page past the old end, never LOCK. */
function expectedDiff(from: Synthetic, to: Synthetic): number[] {
  const out: number[] = [];
  const candidates = new Set<number>([...from.pages.keys(), ...to.pages.keys()]);
  for (let pgno = from.commit + 1; pgno <= to.commit; pgno++) candidates.add(pgno);
  for (const pgno of [...candidates].sort((a, b) => a - b)) {
    if (pgno > to.commit || pgno === LOCK) continue;
    if (pgno > from.commit || Buffer.compare(pageOf(from, pgno), pageOf(to, pgno)) !== 0) out.push(pgno);
  }
  return out;
}

const scans = new Map<Synthetic, LocalScan>();
/** The agent's whole-database scan of a version (kept: each costs a 1 GiB read). */
async function scanOf(v: Synthetic): Promise<LocalScan> {
  let s = scans.get(v);
  if (!s) scans.set(v, (s = await scanDatabase(mainOf(v))));
  return s;
}

/** What the server holds after the agent pushed `scan`: per-page checksums and the position (a copy). */
function serverState(scan: LocalScan, txid: bigint): DatabaseState {
  const sums = new MemoryPageChecksums();
  for (const [pgno, sum] of scan.sums.stored(1, scan.commit)) sums.set(pgno, sum);
  const s = new DatabaseState(sums);
  s.pageSize = scan.pageSize;
  s.commit = scan.commit;
  s.txid = txid;
  s.checksum = scan.checksum;
  return s;
}

/** A sink that checks every page applied against the version's bytes and records the page numbers. */
function checkingSink(v: Synthetic): PageSink & { pgnos: number[]; commit: number } {
  const sink = {
    pgnos: [] as number[],
    commit: -1,
    writePage(pgno: number, data: Uint8Array) {
      sink.pgnos.push(pgno);
      if (Buffer.compare(data, pageOf(v, pgno)) !== 0) throw new Error(`page ${pgno} applied with other bytes than ${v.name}'s`);
    },
    setCommit(pages: number) {
      sink.commit = pages;
    },
  };
  return sink;
}

/** Encodes `batch` from `main` (as the agent sends it) and applies it to `state` as the server does: pre- and post-apply checksums verified. */
async function applyBatch(main: MainFile, batch: Batch, state: DatabaseState, to: Synthetic): Promise<{ pgnos: number[]; commit: number }> {
  const sink = checkingSink(to);
  await applyLTX(state, encodeBatch(main, batch), sink);
  return sink;
}

const pgnosOf = (batch: Batch): number[] => batch.pages.map(([pgno]) => pgno);

/** A diff of `to` against a server at `from` (restart: the saved sums of `from`, `changed` from `/changes`). */
async function diffOf(from: Synthetic, to: Synthetic, changed: Set<number> = new Set()): Promise<{ batch: Batch; pos: Pos }> {
  const base = await scanOf(from);
  const pos: Pos = { txid: 5n, checksum: base.checksum };
  const diffBase: DiffBase = { sums: base.sums, commit: base.commit, changed };
  return { batch: diffBatch(await scanOf(to), pos, 'diff', diffBase, new DatabaseState(), NOW), pos };
}

// Versions: V1 reaches a few pages past the lock page; V2 changes pages on both sides of it (and its
// junk); V0 ends just below it; V3 is V1 shrunk below it.
const V1 = version('v1', LOCK + 4, [2, LOCK - 1, LOCK + 1, LOCK + 4]);
const V2 = version('v2', LOCK + 4, [2, LOCK - 1, LOCK + 1, LOCK + 4, 7], V1);
const V0 = version('v0', LOCK - 3, [2, LOCK - 4, LOCK - 3]);
const V3 = version('v3', LOCK - 2, [3], V1);
/** V0 grown past the lock page by a transaction still in the WAL. */
const V0_WAL: Synthetic = {
  name: 'v0-wal',
  commit: LOCK + 3,
  pages: new Map([...V0.pages, [1, headerPage(LOCK + 3)], [LOCK + 1, r.bytes(PS)], [LOCK + 3, r.bytes(PS)]]),
};

it('the lock page is the one holding byte 2^30 at every page size', () => {
  for (let ps = 512; ps <= 65_536; ps *= 2) {
    expect({ ps, lock: lockPgno(ps) }).toEqual({ ps, lock: 2 ** 30 / ps + 1 });
    expect((lockPgno(ps) - 1) * ps).toBe(2 ** 30);
  }
});

describe('diffBatch at every page size, over synthetic scans (no pages read)', () => {
  /** A scan of `commit` pages whose checksums are made-up, nonzero values (`salt` changes the listed pages); none for the lock page. */
  function fakeScan(ps: number, commit: number, changedPgnos: number[], salt: bigint): LocalScan {
    const lock = 2 ** 30 / ps + 1;
    const sums = new MemoryPageChecksums();
    for (let pgno = 1; pgno <= commit; pgno++) if (pgno !== lock) sums.set(pgno, CHECKSUM_FLAG | BigInt(pgno));
    for (const pgno of changedPgnos) sums.set(pgno, CHECKSUM_FLAG | BigInt(pgno) | salt);
    return {
      pageSize: ps,
      commit,
      walHeader: undefined,
      cursor: undefined,
      walId: undefined,
      walPages: new Map(),
      sums,
      checksum: CHECKSUM_FLAG | salt,
    };
  }

  it.each([512, 4096, 65_536])('%d-byte pages: snapshots, restarts, growth across the lock page — never the lock page', (ps) => {
    const lock = 2 ** 30 / ps + 1;
    const commit = lock + 2;
    const pos: Pos = { txid: 9n, checksum: CHECKSUM_FLAG | 3n };
    const old = fakeScan(ps, commit, [], 0n);
    // The local database: page 1, the pages either side of the lock page and the last page changed.
    const scan = fakeScan(ps, commit, [1, lock - 1, lock + 1, commit], 1n << 40n);

    const snapshot = diffBatch(scan, { txid: 0n, checksum: EMPTY_DB_CHECKSUM }, 'snapshot', undefined, new DatabaseState(), NOW);
    const everyPage = pgnosOf(snapshot);
    expect(everyPage.length).toBe(commit - 1);
    expect(everyPage.includes(lock)).toBe(false);
    expect(everyPage.every((p, i) => p === (i + 1 < lock ? i + 1 : i + 2))).toBe(true);
    expect(snapshot.header).toMatchObject({ pageSize: ps, commit, minTXID: 1n, maxTXID: 1n });

    // `/changes` said every page changed (the saved sums are too old to trust).
    expect(pgnosOf(diffBatch(scan, pos, 'diff', { sums: old.sums, commit, changed: 'all' }, new DatabaseState(), NOW))).toEqual(everyPage);

    // A restart: the pages whose checksums differ, and those `/changes` names — even if it names the lock page.
    const restart = diffBatch(scan, pos, 'diff', { sums: old.sums, commit, changed: new Set([5, lock]) }, new DatabaseState(), NOW);
    expect(pgnosOf(restart)).toEqual([1, 5, lock - 1, lock + 1, commit]);
    expect(restart.header).toMatchObject({ pageSize: ps, commit, minTXID: 10n, maxTXID: 10n, preApplyChecksum: pos.checksum });
    expect(restart.post).toBe(scan.checksum);

    // The server ended just below the lock page: everything past its end but the lock page.
    const grown = diffBatch(scan, pos, 'diff', { sums: old.sums, commit: lock - 1, changed: new Set() }, new DatabaseState(), NOW);
    expect(pgnosOf(grown)).toEqual([1, lock - 1, lock + 1, lock + 2]);
  });
});

describe('scanned, encoded and applied (65536-byte pages, databases past 1 GiB)', () => {
  it("a snapshot past the lock page: the scan's checksum is the codec's and ours, and the file goes 1, 2, … over the lock page", async () => {
    const scan = await scanOf(V1);
    expect({ commit: scan.commit, pageSize: scan.pageSize, lockSum: scan.sums.get(LOCK) }).toEqual({
      commit: LOCK + 4,
      pageSize: PS,
      lockSum: undefined,
    });
    const want = expectedChecksum(V1);
    expect(scan.checksum).toBe(want);
    // The codec's whole-database helper agrees, handed the junk of the lock page.
    expect(databaseChecksum(PS, V1.commit, (pgno) => pageOf(V1, pgno))).toBe(want);

    const batch = diffBatch(scan, { txid: 0n, checksum: EMPTY_DB_CHECKSUM }, 'snapshot', undefined, new DatabaseState(), NOW);
    expect(batch.pages.length).toBe(V1.commit - 1);
    expect(pgnosOf(batch).includes(LOCK)).toBe(false);
    const state = new DatabaseState();
    const applied = await applyBatch(mainOf(V1), batch, state, V1);
    expect(applied.pgnos).toEqual(pgnosOf(batch));
    expect({ commit: applied.commit, checksum: state.checksum }).toEqual({ commit: V1.commit, checksum: want });
  });

  it.each([
    ['past it to past it, pages changed on both sides of it and in its junk', V1, V2],
    ['from just below it to past it', V0, V1],
    ['from past it to just below it', V1, V3],
  ])('a restart diff %s: exactly the changed pages, the post-apply checksum ours, applied by the server rules', async (_what, from, to) => {
    const { batch, pos } = await diffOf(from, to);
    const want = expectedDiff(from, to);
    expect(want.length).toBeLessThan(20);
    expect(pgnosOf(batch)).toEqual(want);
    expect(batch.header.commit).toBe(to.commit);
    expect(batch.post).toBe(expectedChecksum(to));
    const state = serverState(await scanOf(from), pos.txid);
    expect(state.checksum).toBe(expectedChecksum(from));
    const applied = await applyBatch(mainOf(to), batch, state, to);
    expect(applied.pgnos).toEqual(want);
    expect({ commit: applied.commit, checksum: state.checksum }).toEqual({ commit: to.commit, checksum: expectedChecksum(to) });
  });

  it('a restart diff with pages `/changes` names (the lock page among them): those too, never the lock page', async () => {
    const { batch } = await diffOf(V1, V2, new Set([3, LOCK, LOCK + 2]));
    expect(pgnosOf(batch)).toEqual([...new Set([...expectedDiff(V1, V2), 3, LOCK + 2])].sort((a, b) => a - b));
  });

  it('the growth past the lock page still in the WAL (the main file below it, a WAL frame for the lock page too): read from the WAL, the lock frame ignored', async () => {
    const grown = V0_WAL;
    const junk = new Uint8Array(PS).fill(0x5a);
    const main = mainOf({ ...V0, name: grown.name });
    writeFileSync(
      `${main.file}-wal`,
      buildWAL({
        pageSize: PS,
        frames: [
          { pgno: 1, data: grown.pages.get(1) },
          { pgno: LOCK, data: junk },
          { pgno: LOCK + 1, data: grown.pages.get(LOCK + 1) },
          { pgno: LOCK + 3, data: grown.pages.get(LOCK + 3), commit: LOCK + 3 },
        ],
      }),
    );
    const scan = await scanDatabase(main);
    expect({ commit: scan.commit, walPages: [...scan.walPages.keys()].sort((a, b) => a - b) }).toEqual({
      commit: LOCK + 3,
      walPages: [1, LOCK, LOCK + 1, LOCK + 3],
    });
    expect(scan.sums.get(LOCK)).toBeUndefined();
    expect(scan.checksum).toBe(expectedChecksum(grown));

    const base = await scanOf(V0);
    const pos: Pos = { txid: 5n, checksum: base.checksum };
    const batch = diffBatch(scan, pos, 'diff', { sums: base.sums, commit: base.commit, changed: new Set() }, new DatabaseState(), NOW);
    const want = expectedDiff(V0, grown);
    expect(want).toEqual([1, LOCK - 2, LOCK - 1, LOCK + 1, LOCK + 2, LOCK + 3]);
    expect(pgnosOf(batch)).toEqual(want);
    await materializeWALPages(main, batch);
    const state = serverState(base, pos.txid);
    const applied = await applyBatch(main, batch, state, grown);
    expect(applied.pgnos).toEqual(want);
    expect({ commit: applied.commit, checksum: state.checksum }).toEqual({ commit: grown.commit, checksum: expectedChecksum(grown) });
  });
});
