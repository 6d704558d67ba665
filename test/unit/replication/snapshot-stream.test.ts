// Snapshot streams: SQLite bytes and snapshot LTX equal the applied chain at every TXID; pull-driven, bounded memory, typed failures.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { compactLTX } from '../../../src/ltx/compactor.ts';
import { HEADER_FLAG_NO_CHECKSUM, lockPgno } from '../../../src/ltx/constants.ts';
import { decodeLTX } from '../../../src/ltx/decoder.ts';
import { concatBytes, encodeLTX } from '../../../src/ltx/encoder.ts';
import type { LTXError } from '../../../src/ltx/errors.ts';
import { makeHeader } from '../../../src/ltx/header.ts';
import { PageIndexCache } from '../../../src/replication/page-index-cache.ts';
import { PageSource } from '../../../src/replication/page-source.ts';
import { type PlanFileRef, type ReadPlan, PlanError, PlanStaleError, planFileKey } from '../../../src/replication/plan.ts';
import { type SnapshotOptions, snapshotLtx, snapshotSqlite } from '../../../src/replication/snapshot-stream.ts';
import { MemoryObjectStore } from '../../../src/storage/memory-store.ts';
import { CountingStore } from '../../helpers/counting-store.ts';
import { type ChainStep, makePlan, pageOf, putFile, randomChain, readAll, withoutCommits } from '../../helpers/plan-chain.ts';
import { prng } from '../../helpers/prng.ts';

const PREFIX = 'db';
// A handle on V8's collector without --expose-gc on the command line.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** A full collection, then a turn of the event loop for V8 to free the dead ArrayBuffers' memory. */
async function settle(): Promise<void> {
  gc();
  await new Promise((r) => setTimeout(r, 1));
  gc();
}
const SEED = 5150;
console.log(`snapshot-stream seed ${SEED}`);

function header(fields: Parameters<typeof makeHeader>[0]) {
  return makeHeader({ ...fields, flags: HEADER_FLAG_NO_CHECKSUM });
}

async function collect(gen: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of gen) chunks.push(c);
  return concatBytes(chunks);
}

async function expectSqlite(
  store: MemoryObjectStore | CountingStore,
  plan: ReadPlan,
  step: ChainStep,
  opts?: SnapshotOptions,
): Promise<void> {
  const snap = snapshotSqlite(store, plan, PREFIX, opts);
  expect(snap.length).toBe(step.commit * plan.pageSize);
  const bytes = await readAll(snap.body);
  expect(bytes.length).toBe(snap.length);
  expect(Buffer.compare(bytes, step.db), `SQLite bytes at TXID ${step.txid}`).toBe(0);
}

async function expectLtx(
  store: MemoryObjectStore,
  plan: ReadPlan,
  step: ChainStep,
  tracked: boolean,
  opts?: SnapshotOptions,
): Promise<Uint8Array> {
  const bytes = await readAll(snapshotLtx(store, plan, PREFIX, opts));
  const d = decodeLTX(bytes);
  expect(d.header).toMatchObject({
    minTXID: 1n,
    maxTXID: step.txid,
    commit: step.commit,
    pageSize: plan.pageSize,
    flags: tracked ? 0 : HEADER_FLAG_NO_CHECKSUM,
  });
  const lock = lockPgno(plan.pageSize);
  expect(d.pages.map((p) => p.pgno)).toEqual(Array.from({ length: step.commit }, (_, i) => i + 1).filter((p) => p !== lock));
  for (const p of d.pages) expect(Buffer.compare(p.data, pageOf(step.db, plan.pageSize, p.pgno))).toBe(0);
  expect(d.trailer.postApplyChecksum).toBe(tracked ? step.checksum : 0n);
  return bytes;
}

describe.each([4096, 65536])('snapshots at every TXID equal the applied chain (page size %i)', (pageSize) => {
  it.each([false, true])('tracked checksums: %s', async (tracked) => {
    const steps = await randomChain({ seed: SEED ^ pageSize ^ (tracked ? 1 : 0), count: 12, pageSize, tracked });
    const mem = new MemoryObjectStore();
    const l0: PlanFileRef[] = [];
    for (const s of steps) l0.push(await putFile(mem, PREFIX, 'chain', 0, s.bytes));
    const variants: SnapshotOptions[] = [{}, { maxOpenStreams: 0 }, { maxOpenStreams: 1, outputChunkBytes: 3 * pageSize }];
    for (let t = 1; t <= steps.length; t++) {
      const step = steps[t - 1];
      const plan = makePlan('chain', l0.slice(0, t), step, pageSize);
      for (const opts of variants) await expectSqlite(mem, plan, step, opts);
      await expectSqlite(mem, withoutCommits(plan), step); // the headers give the commits
      await expectLtx(mem, plan, step, tracked, t % 2 === 0 ? { maxOpenStreams: 0 } : {});
    }
    // A snapshot made by snapshotLtx, stored at level 9, then level-0 files on top.
    for (const s of [3, 7]) {
      const snap = await putFile(
        mem,
        PREFIX,
        'chain',
        9,
        await expectLtx(mem, makePlan('chain', l0.slice(0, s), steps[s - 1], pageSize), steps[s - 1], tracked),
      );
      for (const t of [s, s + 2, steps.length]) {
        const plan = makePlan('chain', [snap, ...l0.slice(s, t)], steps[t - 1], pageSize);
        await expectSqlite(mem, plan, steps[t - 1]);
        await expectSqlite(mem, plan, steps[t - 1], { maxOpenStreams: 0 });
        await expectLtx(mem, plan, steps[t - 1], tracked);
      }
    }
  });
});

it('a plan with an overlapping compacted file (compactLTX)', async () => {
  const pageSize = 4096;
  const steps = await randomChain({ seed: SEED + 1, count: 10, pageSize, gaps: false });
  const mem = new MemoryObjectStore();
  const l0: PlanFileRef[] = [];
  for (const s of steps) l0.push(await putFile(mem, PREFIX, 'ovl', 0, s.bytes));
  const l1 = await putFile(mem, PREFIX, 'ovl', 1, await collect(compactLTX(steps.slice(2, 7).map((s) => [s.bytes]))));
  for (const t of [7, 9]) {
    const plan = makePlan('ovl', [...l0.slice(0, 4), l1, ...l0.slice(7, t)], steps[t - 1], pageSize);
    await expectSqlite(mem, plan, steps[t - 1]);
    await expectSqlite(mem, plan, steps[t - 1], { maxOpenStreams: 2 });
    await expectLtx(mem, plan, steps[t - 1], false);
  }
});

/** A snapshot of `pages` random 4 KiB pages and `extra` small level-0 files rewriting a page each. */
async function fixture(pages: number, extra: number) {
  const pageSize = 4096;
  const r = prng(SEED + 2);
  const files = [
    encodeLTX(
      header({ pageSize, commit: pages, minTXID: 1n, maxTXID: 1n }),
      Array.from({ length: pages }, (_, i) => ({ pgno: i + 1, data: r.bytes(pageSize) })),
    ),
  ];
  for (let i = 0; i < extra; i++) {
    const txid = BigInt(i + 2);
    files.push(
      encodeLTX(header({ pageSize, commit: pages, minTXID: txid, maxTXID: txid }), [{ pgno: 1 + r.int(pages), data: r.bytes(pageSize) }]),
    );
  }
  const mem = new MemoryObjectStore();
  const refs: PlanFileRef[] = [];
  for (const [i, f] of files.entries()) refs.push(await putFile(mem, PREFIX, 'fx', i === 0 ? 9 : 0, f));
  const plan: ReadPlan = { db: 'fx', txid: BigInt(extra + 1), pageSize, commit: pages, checksum: 0n, files: refs };
  return { mem, plan, files, refs };
}

describe('pull-driven streaming', () => {
  it('reads nothing until asked and little ahead of the consumer', async () => {
    const { mem, plan, refs } = await fixture(512, 2);
    const store = new CountingStore(mem);
    const source = new PageSource(store, new PageIndexCache(), { prefix: PREFIX });
    const snap = snapshotSqlite(store, plan, PREFIX, { source });
    await new Promise((r) => setTimeout(r, 10));
    expect(store.counts.gets).toBe(0);
    const reader = snap.body.getReader();
    const first = await reader.read();
    expect(first.value!.length).toBe(64 * 1024);
    await new Promise((r) => setTimeout(r, 10));
    // The snapshot (~2 MB) has been read only a little past the first 16 pages.
    expect(store.counts.bytes).toBeLessThan(256 * 1024);
    expect(refs[0].size).toBeGreaterThan(2_000_000);
    // One chunk read ahead per stream: the two small files are already read to their end, the snapshot is not.
    expect(store.counts.openStreams).toBe(1);
    await reader.cancel();
    expect(store.counts.openStreams).toBe(0);
  });

  it('a scanned file asks for its next run while this one is decoded, and for no run twice', async () => {
    const { mem, plan, refs, files } = await fixture(512, 0);
    const store = new CountingStore(mem);
    const source = new PageSource(store, new PageIndexCache(), { prefix: PREFIX });
    const snap = snapshotSqlite(store, plan, PREFIX, { source, maxOpenStreams: 0, scanBufferBytes: 64 * 1024 });
    const key = planFileKey(PREFIX, 'fx', refs[0]);
    // Runs of frames: ranged gets that stop short of the file's end (the index probe reads its last bytes).
    const runs = () =>
      store.getLog.filter(
        (g) =>
          g.key === key && g.range !== undefined && 'offset' in g.range && g.range.offset + (g.range.length ?? Infinity) < refs[0].size,
      );
    const reader = snap.body.getReader();
    const first = await reader.read();
    expect(first.value!.length).toBe(64 * 1024);
    await new Promise((r) => setTimeout(r, 10));
    // 64 KiB runs hold 15 of these 4 KiB random pages: the first 16 pages took two runs, and the third is already asked for.
    expect(runs().length).toBe(3);
    const rest: Uint8Array[] = [first.value!];
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest.push(r.value);
    expect(concatBytes(rest)).toEqual(concatBytes(decodeLTX(files[0]).pages.map((p) => p.data)));
    const offsets = runs().map((g) => (g.range as { offset: number }).offset);
    expect(new Set(offsets).size).toBe(offsets.length);
  });

  it('streams at most maxOpenStreams files (the largest), scans the rest, closes everything at the end', async () => {
    const { mem, plan } = await fixture(64, 9);
    const store = new CountingStore(mem);
    const source = new PageSource(store, new PageIndexCache(), { prefix: PREFIX });
    const bytes = await readAll(snapshotSqlite(store, plan, PREFIX, { maxOpenStreams: 2, source }).body);
    expect(bytes.length).toBe(64 * 4096);
    expect(store.counts.maxOpenStreams).toBe(2);
    expect(store.counts.openStreams).toBe(0);
    expect(store.counts.maxConnections).toBeLessThanOrEqual(6); // a Worker invocation's simultaneous connections
    expect(store.counts.connections).toBe(0);
    expect(store.counts.fullGets).toBe(2);
    expect(store.getLog.find((g) => g.range === undefined)!.key).toBe(planFileKey(PREFIX, 'fx', plan.files[0]));
    // The 8 small files left: one ranged get each (the index probe covers the whole file).
    expect(store.counts.rangedGets).toBe(8);
    expect(source.stats.r2Gets).toBe(10);
    // Scanned again with a warm index cache: one get per file, for its frames.
    store.reset();
    await readAll(snapshotSqlite(store, plan, PREFIX, { maxOpenStreams: 2, source }).body);
    expect(store.counts.rangedGets).toBe(8);
    expect(source.stats.indexLoads).toBe(8);
    // Defaults over the same 10 files: 4 streams, 6 scans, never more than 6 connections.
    store.reset();
    expect((await readAll(snapshotSqlite(store, plan, PREFIX).body)).length).toBe(64 * 4096);
    expect(store.counts).toMatchObject({ fullGets: 4, maxOpenStreams: 4, openStreams: 0, connections: 0 });
    expect(store.counts.maxConnections).toBeLessThanOrEqual(6);
  });

  it('a large scanned file is read in runs bounded by the scan buffer', async () => {
    const { mem, plan, refs } = await fixture(256, 1); // ~1 MB snapshot
    const store = new CountingStore(mem);
    const bytes = await readAll(snapshotSqlite(store, plan, PREFIX, { maxOpenStreams: 0, scanBufferBytes: 256 * 1024 }).body);
    expect(bytes.length).toBe(256 * 4096);
    const snapGets = store.getLog.filter((g) => g.key === planFileKey(PREFIX, 'fx', refs[0]));
    // Index: the 32 KiB probe (its frames are served from it); the rest in runs of at most 128 KiB
    // (the budget split over 2 files), back to back from the header.
    expect(snapGets[0].range).toEqual({ offset: refs[0].size - 32768, length: 32768 });
    const runs = snapGets.slice(1).map((g) => g.range as { offset: number; length: number });
    expect(runs.length).toBeGreaterThan(6);
    expect(Math.max(...runs.map((g) => g.length))).toBeLessThanOrEqual(128 * 1024);
    expect(runs[0].offset).toBe(0);
    for (let i = 1; i < runs.length; i++) expect(runs[i].offset).toBe(runs[i - 1].offset + runs[i - 1].length);
    expect(runs[runs.length - 1].offset + runs[runs.length - 1].length).toBeGreaterThan(refs[0].size - 32768);
  });
});

describe('failures', () => {
  it.each([{}, { maxOpenStreams: 0 }])('a file deleted after planning: the stream fails with PlanStaleError (%o)', async (opts) => {
    const { mem, plan } = await fixture(16, 2);
    await mem.delete(planFileKey(PREFIX, 'fx', plan.files[2]));
    const store = new CountingStore(mem);
    await expect(readAll(snapshotSqlite(store, plan, PREFIX, opts).body)).rejects.toBeInstanceOf(PlanStaleError);
    await expect(readAll(snapshotLtx(store, plan, PREFIX, opts))).rejects.toBeInstanceOf(PlanStaleError);
    expect(store.counts.openStreams).toBe(0); // the other files' bodies were cancelled
  });

  it('a corrupt streamed file fails the stream before its last chunk', async () => {
    const { mem, plan, files } = await fixture(64, 1);
    const bad = files[0].slice();
    bad[bad.length - 1] ^= 1; // file checksum: only the end of the file can tell
    await mem.put(planFileKey(PREFIX, 'fx', plan.files[0]), bad);
    const reader = snapshotSqlite(mem, plan, PREFIX).body.getReader();
    let got = 0;
    const err = await (async () => {
      for (;;) {
        const r = await reader.read();
        if (r.done) return undefined;
        got += r.value.length;
      }
    })().catch((e: unknown) => e);
    expect((err as LTXError).code).toBe('LTX_FILE_CHECKSUM_MISMATCH');
    expect(got).toBeLessThan(64 * 4096);
  });

  it('headers that disagree with the plan: PLAN_INVALID', async () => {
    const { mem, plan } = await fixture(16, 1);
    const liar = { ...plan, commit: 17, files: plan.files.map(({ commit: _, ...f }) => f) };
    const err = await readAll(snapshotSqlite(mem, liar, PREFIX).body).catch((e: unknown) => e);
    expect((err as PlanError).code).toBe('PLAN_INVALID');
    expect(() => snapshotSqlite(mem, { ...plan, files: [] }, PREFIX)).toThrow(PlanError);
  });

  it('a tracked snapshot LTX checks the plan checksum against the pages', async () => {
    const pageSize = 4096;
    const steps = await randomChain({ seed: SEED + 3, count: 4, pageSize, tracked: true });
    const mem = new MemoryObjectStore();
    const refs: PlanFileRef[] = [];
    for (const s of steps) refs.push(await putFile(mem, PREFIX, 'trk', 0, s.bytes));
    const plan = makePlan('trk', refs, steps[3], pageSize);
    const err = await readAll(snapshotLtx(mem, { ...plan, checksum: plan.checksum ^ 1n }, PREFIX)).catch((e: unknown) => e);
    expect((err as LTXError).code).toBe('LTX_POST_APPLY_MISMATCH');
  });
});

/** A 256 MiB snapshot of mostly-zero 64 KiB pages, then growth past the lock page (byte 1 GiB) with three pages written. */
async function hugeFixture() {
  const pageSize = 65536;
  const lock = lockPgno(pageSize); // 16385: byte 1 GiB
  const snapPages = 4096; // 256 MiB snapshot, mostly zero pages
  const r = prng(SEED + 4);
  const marked = new Map<number, Uint8Array>();
  const snapshot = encodeLTX(
    header({ pageSize, commit: snapPages, minTXID: 1n, maxTXID: 1n }),
    (function* () {
      const zero = new Uint8Array(pageSize);
      for (let pgno = 1; pgno <= snapPages; pgno++) {
        if (pgno % 97 !== 1) {
          yield { pgno, data: zero };
          continue;
        }
        const data = r.bytes(pageSize);
        marked.set(pgno, data);
        yield { pgno, data };
      }
    })(),
  );
  const grown = [lock - 1, lock + 1, lock + 3].map((pgno) => ({ pgno, data: new Uint8Array(pageSize).fill(pgno & 0xff) }));
  const commit = lock + 3;
  const growth = encodeLTX(header({ pageSize, commit, minTXID: 2n, maxTXID: 2n }), grown);
  for (const g of grown) marked.set(g.pgno, g.data);
  const mem = new MemoryObjectStore();
  const plan: ReadPlan = {
    db: 'huge',
    txid: 2n,
    pageSize,
    commit,
    checksum: 0n,
    files: [await putFile(mem, PREFIX, 'huge', 9, snapshot), await putFile(mem, PREFIX, 'huge', 0, growth)],
  };
  return { mem, plan, marked, pageSize, commit };
}

let huge: ReturnType<typeof hugeFixture> | undefined;

describe('bounded memory', () => {
  it.each<[string, SnapshotOptions]>([
    ['streamed', {}],
    ['scanned through the index', { maxOpenStreams: 0 }],
  ])('a 1 GiB database (64 KiB pages, past the lock page) streams with a fraction of it in memory: %s', async (_, opts) => {
    huge ??= hugeFixture();
    const { mem, plan, marked, pageSize, commit } = await huge;

    const snap = snapshotSqlite(mem, plan, PREFIX, opts);
    expect(snap.length).toBe(commit * pageSize);
    expect(snap.length).toBeGreaterThan(2 ** 30);
    await settle();
    const base = process.memoryUsage().arrayBuffers;
    let peak = 0;
    let at = 0;
    let checked = 0;
    const zero = new Uint8Array(pageSize);
    const reader = snap.body.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      const chunk = r.value;
      expect(chunk.length % pageSize).toBe(0);
      for (let off = 0; off < chunk.length; off += pageSize) {
        const pgno = (at + off) / pageSize + 1;
        const page = chunk.subarray(off, off + pageSize);
        expect(Buffer.compare(page, marked.get(pgno) ?? zero), `page ${pgno}`).toBe(0);
        checked++;
      }
      at += chunk.length;
      if (checked % 1024 === 0) {
        await settle(); // count what is held, not garbage not yet collected
        peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
      }
    }
    expect(at).toBe(snap.length);
    expect(checked).toBe(commit);
    console.log(`1 GiB snapshot (${_}): peak arrayBuffers held ${(peak / 2 ** 20).toFixed(1)} MiB`);
    // The store's copy of the ~4 MB snapshot object, decoder slabs, one chunk: far below 1 GiB.
    expect(peak).toBeLessThan(32 * 2 ** 20);
  });
});
