// PageSource: every page at a plan's TXID equals the applied chain; R2 gets per read; stale plans; shrink ceilings.

import { describe, expect, it } from 'vitest';
import { compactLTX } from '../../../src/ltx/compactor.ts';
import { HEADER_FLAG_NO_CHECKSUM, lockPgno } from '../../../src/ltx/constants.ts';
import { concatBytes, encodeLTX } from '../../../src/ltx/encoder.ts';
import { decodeLTX } from '../../../src/ltx/decoder.ts';
import { tailFacts } from '../../../src/ltx/page-index.ts';
import { LTXError } from '../../../src/ltx/errors.ts';
import { makeHeader } from '../../../src/ltx/header.ts';
import { PageIndexCache } from '../../../src/replication/page-index-cache.ts';
import { PageSource } from '../../../src/replication/page-source.ts';
import { type PlanFileRef, type ReadPlan, PlanError, PlanStaleError, planFileKey } from '../../../src/replication/plan.ts';
import { MemoryObjectStore } from '../../../src/storage/memory-store.ts';
import { CountingStore } from '../../helpers/counting-store.ts';
import { type ChainStep, makePlan, pageOf, putFile, randomChain, replayChain, withoutCommits } from '../../helpers/plan-chain.ts';
import { prng } from '../../helpers/prng.ts';

const PREFIX = 'db';
const SEED = 7311;
console.log(`page-source seed ${SEED}`);

/** A NoChecksum header, as Litestream writes. */
function header(fields: Parameters<typeof makeHeader>[0]) {
  return makeHeader({ ...fields, flags: HEADER_FLAG_NO_CHECKSUM });
}

async function collect(gen: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of gen) chunks.push(c);
  return concatBytes(chunks);
}

/** Every pgno 1..commit+2 in one batch, and a sample one by one, against the applied database. */
async function expectPlanReads(src: PageSource, plan: ReadPlan, step: ChainStep): Promise<void> {
  const all = Array.from({ length: step.commit + 2 }, (_, i) => i + 1);
  const got = await src.readPages(plan, all);
  expect([...got.keys()]).toEqual(all.slice(0, step.commit));
  for (const [pgno, data] of got) expect(data, `page ${pgno} at TXID ${step.txid}`).toEqual(pageOf(step.db, plan.pageSize, pgno));
  for (const pgno of [1, step.commit, Math.ceil(step.commit / 2)]) {
    expect(await src.readPage(plan, pgno)).toEqual(pageOf(step.db, plan.pageSize, pgno));
  }
  expect(await src.readPage(plan, step.commit + 1)).toBeUndefined();
}

describe.each([512, 4096, 65536])('pages at every TXID equal the applied chain (page size %i)', (pageSize) => {
  it('plans of level-0 files and of a snapshot plus level-0 files, growth without writes, shrinks', async () => {
    const steps = await randomChain({ seed: SEED ^ pageSize, count: 12, pageSize });
    const mem = new MemoryObjectStore();
    const l0: PlanFileRef[] = [];
    for (const s of steps) l0.push(await putFile(mem, PREFIX, 'gappy', 0, s.bytes));
    const src = new PageSource(mem, new PageIndexCache(), { prefix: PREFIX });
    for (let t = 1; t <= steps.length; t++) {
      const step = steps[t - 1];
      await expectPlanReads(src, makePlan('gappy', l0.slice(0, t), step, pageSize), step);
    }
    // A level-9 snapshot at TXID s (made by replaying pages 1..commit), then level-0 files.
    for (const s of [2, 5, 9]) {
      const at = steps[s - 1];
      const pages = Array.from({ length: at.commit }, (_, i) => ({ pgno: i + 1, data: pageOf(at.db, pageSize, i + 1) }));
      const snap = encodeLTX(header({ pageSize, commit: at.commit, minTXID: 1n, maxTXID: at.txid }), pages);
      const ref = await putFile(mem, PREFIX, 'gappy', 9, snap);
      for (const t of [s, s + 1, steps.length]) {
        const step = steps[t - 1];
        await expectPlanReads(src, makePlan('gappy', [ref, ...l0.slice(s, t)], step, pageSize), step);
      }
    }
  });
});

describe('an overlapping compacted file (compactLTX) inside the plan', () => {
  it.each([4096, 65536])('page size %i', async (pageSize) => {
    const steps = await randomChain({ seed: SEED + pageSize, count: 10, pageSize, gaps: false });
    const mem = new MemoryObjectStore();
    const l0: PlanFileRef[] = [];
    for (const s of steps) l0.push(await putFile(mem, PREFIX, 'ovl', 0, s.bytes));
    // L1 over TXIDs 3..7, overlapping the level-0 files 3 and 4 that stay in the plan before it.
    const l1 = await putFile(mem, PREFIX, 'ovl', 1, await collect(compactLTX(steps.slice(2, 7).map((s) => [s.bytes]))));
    const snap = await putFile(mem, PREFIX, 'ovl', 9, await collect(compactLTX(steps.slice(0, 2).map((s) => [s.bytes]))));
    const src = new PageSource(mem, new PageIndexCache(), { prefix: PREFIX });
    for (const t of [7, 8, 10]) {
      const step = steps[t - 1];
      await expectPlanReads(src, makePlan('ovl', [...l0.slice(0, 4), l1, ...l0.slice(7, t)], step, pageSize), step);
      await expectPlanReads(src, makePlan('ovl', [snap, l1, ...l0.slice(7, t)], step, pageSize), step);
    }
  });
});

describe('zero pages', () => {
  it('a shrink then a regrowth without writes reads zeros when the plan carries commits', async () => {
    const pageSize = 512;
    const r = prng(SEED);
    const files = [
      encodeLTX(
        header({ pageSize, commit: 10, minTXID: 1n, maxTXID: 1n }),
        Array.from({ length: 10 }, (_, i) => ({ pgno: i + 1, data: r.bytes(pageSize) })),
      ),
      encodeLTX(header({ pageSize, commit: 4, minTXID: 2n, maxTXID: 2n }), [{ pgno: 1, data: r.bytes(pageSize) }]),
      encodeLTX(header({ pageSize, commit: 12, minTXID: 3n, maxTXID: 3n }), [{ pgno: 12, data: r.bytes(pageSize) }]),
    ];
    const steps = await replayChain(files);
    const mem = new MemoryObjectStore();
    const refs: PlanFileRef[] = [];
    for (const f of files) refs.push(await putFile(mem, PREFIX, 'shrink', 0, f));
    const src = new PageSource(mem, new PageIndexCache(), { prefix: PREFIX });
    const plan = makePlan('shrink', refs, steps[2], pageSize);
    await expectPlanReads(src, plan, steps[2]);
    expect((await src.readPage(plan, 7))!.every((b) => b === 0)).toBe(true);
    // Without per-file commits the snapshot's old page wins, as in the reference compactor.
    expect(await src.readPage(withoutCommits(plan), 7)).toEqual(pageOf(steps[0].db, pageSize, 7));
  });

  it('the lock page and pages grown past it without writes are zeros; the first pages after it are read', async () => {
    const pageSize = 65536;
    const lock = lockPgno(pageSize); // 16385
    const data = new Uint8Array(pageSize).fill(7);
    const files = [
      encodeLTX(header({ pageSize, commit: 2, minTXID: 1n, maxTXID: 1n }), [
        { pgno: 1, data },
        { pgno: 2, data },
      ]),
      encodeLTX(header({ pageSize, commit: lock + 2, minTXID: 2n, maxTXID: 2n }), [
        { pgno: lock - 1, data },
        { pgno: lock + 1, data },
      ]),
    ];
    const mem = new MemoryObjectStore();
    const refs = [await putFile(mem, PREFIX, 'big', 9, files[0]), await putFile(mem, PREFIX, 'big', 0, files[1])];
    const src = new PageSource(mem, new PageIndexCache(), { prefix: PREFIX });
    const plan: ReadPlan = { db: 'big', txid: 2n, pageSize, commit: lock + 2, checksum: 0n, files: refs };
    const got = await src.readPages(plan, [1, 3, lock - 1, lock, lock + 1, lock + 2, lock + 3]);
    const zero = new Uint8Array(pageSize);
    expect([...got.keys()]).toEqual([1, 3, lock - 1, lock, lock + 1, lock + 2]);
    expect(got.get(1)).toEqual(data);
    expect(got.get(3)).toEqual(zero);
    expect(got.get(lock - 1)).toEqual(data);
    expect(got.get(lock)).toEqual(zero);
    expect(got.get(lock + 1)).toEqual(data);
    expect(got.get(lock + 2)).toEqual(zero);
    // A hint at the lock page is ignored: still zeros, no get.
    const before = src.stats.r2Gets;
    expect(await src.readPage(plan, lock, 1)).toEqual(zero);
    expect(src.stats.r2Gets).toBe(before);
  });

  it('rejects page numbers that are not positive integers', async () => {
    const src = new PageSource(new MemoryObjectStore(), new PageIndexCache(), { prefix: PREFIX });
    const plan: ReadPlan = {
      db: 'x',
      txid: 1n,
      pageSize: 512,
      commit: 1,
      checksum: 0n,
      files: [{ level: 0, minTXID: 1n, maxTXID: 1n, size: 200 }],
    };
    await expect(src.readPages(plan, [0])).rejects.toThrow(RangeError);
    await expect(src.readPages(plan, [1.5])).rejects.toThrow(RangeError);
  });
});

/** A snapshot of `pages` random 4 KiB pages (~4.1 KB a frame, far past 32 KiB) and two small level-0 files. */
async function costFixture(pages = 64) {
  const pageSize = 4096;
  const r = prng(SEED + 1);
  const files = [
    encodeLTX(
      header({ pageSize, commit: pages, minTXID: 1n, maxTXID: 1n }),
      Array.from({ length: pages }, (_, i) => ({ pgno: i + 1, data: r.bytes(pageSize) })),
    ),
    encodeLTX(
      header({ pageSize, commit: pages, minTXID: 2n, maxTXID: 2n }),
      [3, 4, 5].map((pgno) => ({ pgno, data: r.bytes(pageSize) })),
    ),
    encodeLTX(
      header({ pageSize, commit: pages + 1, minTXID: 3n, maxTXID: 3n }),
      [1, pages + 1].map((pgno) => ({ pgno, data: r.bytes(pageSize) })),
    ),
  ];
  const steps = await replayChain(files);
  const mem = new MemoryObjectStore();
  const store = new CountingStore(mem);
  const refs = [
    await putFile(mem, PREFIX, 'cost', 9, files[0]),
    await putFile(mem, PREFIX, 'cost', 0, files[1]),
    await putFile(mem, PREFIX, 'cost', 0, files[2]),
  ];
  const plan = makePlan('cost', refs, steps[2], pageSize);
  const expected = (pgno: number) => pageOf(steps[2].db, pageSize, pgno);
  return { mem, store, plan, expected, pageSize, files, refs };
}

describe('R2 gets per read', () => {
  it('cold read with a hint: 2 gets (index probe, frame); warm: 1; a frame inside the probed tail: 1 cold', async () => {
    const { store, plan, expected } = await costFixture();
    expect(plan.files[0].size).toBeGreaterThan(200_000);
    const cache = new PageIndexCache();
    const src = new PageSource(store, cache, { prefix: PREFIX });
    expect(await src.readPage(plan, 10, 0)).toEqual(expected(10));
    expect(store.counts.gets).toBe(2);
    expect(src.stats).toMatchObject({ r2Gets: 2, indexLoads: 1, pagesServed: 1 });
    expect(store.getLog[0].range).toEqual({ offset: plan.files[0].size - 32768, length: 32768 });

    store.reset();
    expect(await src.readPage(plan, 20, 0)).toEqual(expected(20));
    expect(store.counts.gets).toBe(1);

    // A fresh cache: the last page's frame lies in the last 32 KiB, so the probe brings it along.
    const cold = new PageSource(store, new PageIndexCache(), { prefix: PREFIX });
    store.reset();
    expect(await cold.readPage(plan, 64, 0)).toEqual(expected(64));
    expect(store.counts.gets).toBe(1);
  });

  it('a small file at the head: the probe is the whole file, 1 get cold, and a page in no file costs nothing more', async () => {
    const { store, plan, expected } = await costFixture();
    const src = new PageSource(store, new PageIndexCache(), { prefix: PREFIX });
    expect(await src.readPage(plan, 65, 2)).toEqual(expected(65));
    expect(store.counts.gets).toBe(1);
    expect(store.getLog[0].range).toEqual({ offset: 0, length: plan.files[2].size });
  });

  it('without hints: indexes newest to oldest in one wave, then one get per file with frames', async () => {
    const { store, plan, expected } = await costFixture();
    const src = new PageSource(store, new PageIndexCache(), { prefix: PREFIX });
    const got = await src.readPages(plan, [2, 4, 10, 11, 12, 65]);
    for (const [pgno, data] of got) expect(data).toEqual(expected(pgno));
    // 3 index probes; frames: snapshot (2, 10..12 coalesced) 1 get; file 2 (page 4) and file 3 (page 65) served from their probes.
    expect(src.stats).toMatchObject({ indexLoads: 3, r2Gets: 4, pagesServed: 6 });
  });

  it('a wrong hint falls back to the search', async () => {
    const { store, plan, expected } = await costFixture();
    const src = new PageSource(store, new PageIndexCache(), { prefix: PREFIX });
    expect(await src.readPage(plan, 10, 1)).toEqual(expected(10)); // page 10 is not in file 1
    expect(await src.readPage(plan, 4, 7)).toEqual(expected(4)); // no such file
  });

  it('neighbouring frames: one get per file, warm; maxCoalesceGap and maxRangeBytes split runs', async () => {
    const { store, plan, expected } = await costFixture();
    const cache = new PageIndexCache();
    const warmUp = new PageSource(store, cache, { prefix: PREFIX });
    for (const f of plan.files) await warmUp.indexOf(plan.db, f);

    store.reset();
    const src = new PageSource(store, cache, { prefix: PREFIX });
    const pgnos = Array.from({ length: 30 }, (_, i) => i + 1);
    const got = await src.readPages(plan, pgnos);
    for (const [pgno, data] of got) expect(data).toEqual(expected(pgno));
    expect(store.counts.gets).toBe(3); // snapshot run, file 2 (3..5), file 3 (1)
    expect(src.stats.indexLoads).toBe(0);

    store.reset();
    await src.readPages(plan, [10, 12, 14]); // gaps of one ~4 KB frame
    expect(store.counts.gets).toBe(1);

    store.reset();
    const strict = new PageSource(store, cache, { prefix: PREFIX, maxCoalesceGap: 0 });
    await strict.readPages(plan, [10, 12, 14, 15]);
    expect(store.counts.gets).toBe(3); // 10 | 12 | 14-15

    store.reset();
    const small = new PageSource(store, cache, { prefix: PREFIX, maxRangeBytes: 3 * 4200 });
    const many = await small.readPages(plan, [20, 21, 22, 23, 24, 25, 26, 27, 28]);
    for (const [pgno, data] of many) expect(data).toEqual(expected(pgno));
    expect(store.counts.gets).toBe(3); // 9 frames of ~4.1 KB, at most 3 per get
  });

  /** A snapshot of 9,000 pages of 512 bytes (~8 index bytes per page: ~70 KB of index), stored as 'wide'. */
  async function wideFile(seed: number) {
    const pageSize = 512;
    const r = prng(seed);
    const bytes = encodeLTX(
      header({ pageSize, commit: WIDE_PAGES, minTXID: 1n, maxTXID: 1n }),
      Array.from({ length: WIDE_PAGES }, (_, i) => ({ pgno: i + 1, data: new Uint8Array(pageSize).fill(r.int(256)) })),
    );
    const mem = new MemoryObjectStore();
    const ref = await putFile(mem, PREFIX, 'wide', 9, bytes);
    return { bytes, mem, store: new CountingStore(mem), ref };
  }
  const WIDE_PAGES = 9000;

  it('an index past the 32 KiB probe costs a second get for the rest of it, then is cached', async () => {
    const n = WIDE_PAGES;
    const { store, ref } = await wideFile(SEED + 2);
    const src = new PageSource(store, new PageIndexCache(), { prefix: PREFIX });
    const [a, b] = await Promise.all([src.indexOf('wide', ref), src.indexOf('wide', ref)]);
    expect(a).toBe(b);
    expect(a.pgnos.length).toBe(n);
    expect(src.stats).toMatchObject({ indexLoads: 1, r2Gets: 2 });
    const second = store.getLog[1].range as { offset: number; length: number };
    expect(second.offset + second.length).toBe(ref.size - 32768);
    await src.indexOf('wide', ref);
    expect(src.stats.r2Gets).toBe(2);
  });

  it('an index whose length the plan carries is one exact get, however long', async () => {
    const n = WIDE_PAGES;
    const { bytes, mem, store, ref } = await wideFile(SEED + 3);
    const { indexBytes } = tailFacts(bytes);
    expect(indexBytes).toBe(decodeLTX(bytes).indexBytes);
    expect(indexBytes).toBeGreaterThan(32768);
    const src = new PageSource(store, new PageIndexCache(), { prefix: PREFIX });
    const index = await src.indexOf('wide', { ...ref, indexBytes });
    expect(index.pgnos.length).toBe(n);
    expect(src.stats).toMatchObject({ indexLoads: 1, r2Gets: 1 });
    expect(store.getLog[0].range).toEqual({ offset: ref.size - indexBytes, length: indexBytes });
    // A length that cannot be right is not trusted: the 32 KiB probe and the rest, as without one.
    const other = new PageSource(new CountingStore(mem), new PageIndexCache(), { prefix: PREFIX });
    expect((await other.indexOf('wide', { ...ref, indexBytes: ref.size + 1 })).pgnos.length).toBe(n);
    expect(other.stats).toMatchObject({ indexLoads: 1, r2Gets: 2 });
  });

  it('respects the concurrency limit', async () => {
    const { mem, plan } = await costFixture();
    let active = 0;
    let peak = 0;
    const slow = new CountingStore(mem);
    const get = slow.get.bind(slow);
    slow.get = async (key, range) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 2));
      try {
        return await get(key, range);
      } finally {
        active--;
      }
    };
    const src = new PageSource(slow, new PageIndexCache(), { prefix: PREFIX, maxCoalesceGap: 0, concurrency: 2 });
    await src.readPages(plan, [2, 8, 14, 20, 26, 32, 38]);
    expect(peak).toBe(2);
  });
});

describe('stale and inconsistent plans', () => {
  it('a file deleted after planning: PlanStaleError with its key', async () => {
    const { mem, store, plan } = await costFixture();
    const key = planFileKey(PREFIX, plan.db, plan.files[1]);
    await mem.delete(key);
    const src = new PageSource(store, new PageIndexCache(), { prefix: PREFIX });
    const err = await src.readPages(plan, [4]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanStaleError);
    expect((err as PlanStaleError).key).toBe(key);
    expect((err as PlanStaleError).code).toBe('PLAN_STALE');
  });

  it('a frame deleted between index and frame reads is stale too', async () => {
    const { mem, store, plan } = await costFixture();
    const src = new PageSource(store, new PageIndexCache(), { prefix: PREFIX });
    await src.indexOf(plan.db, plan.files[0]);
    await mem.delete(planFileKey(PREFIX, plan.db, plan.files[0]));
    await expect(src.readPage(plan, 10, 0)).rejects.toBeInstanceOf(PlanStaleError);
  });

  it('a size that disagrees with storage, or a malformed plan: PLAN_INVALID', async () => {
    const { store, plan } = await costFixture();
    const src = new PageSource(store, new PageIndexCache(), { prefix: PREFIX });
    const wrongSize = { ...plan, files: [plan.files[0], plan.files[1], { ...plan.files[2], size: plan.files[2].size - 1 }] };
    const e1 = await src.readPage(wrongSize, 65, 2).catch((e: unknown) => e);
    expect(e1 instanceof PlanError || e1 instanceof LTXError).toBe(true);
    const e2 = await src.readPage({ ...plan, files: plan.files.slice(1) }, 1).catch((e: unknown) => e);
    expect((e2 as PlanError).code).toBe('PLAN_INVALID');
  });
});
