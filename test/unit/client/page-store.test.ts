// PageStore without a server: batch chunking, commit discovery at an old TXID, epochs guarding the LRU, page 1's in-header size.

import { describe, expect, it } from 'vitest';
import { MAX_BATCH_PAGES } from '../../../src/api/wire.ts';
import { ApiClient, formatPgnoList } from '../../../src/remote/http-client.ts';
import { PageStore, chunkPgnos } from '../../../src/client/page-store.ts';
import { headerPageCount } from '../../../src/sqlite/header.ts';
import { encodePageBatch } from '../../../src/replication/page-batch.ts';
import { prng } from '../../helpers/prng.ts';

const SEED = Number(process.env.LTX_CLIENT_SEED ?? Date.now() % 0x7fffffff);
const PAGE_SIZE = 512;

/** A fake batch endpoint for a database of `commit` pages at TXID 7: page p is filled with p & 0xff. */
function fakeServer(commit: number): { api: ApiClient; requests: string[] } {
  const requests: string[] = [];
  const fetchFn = (async (input: string | URL | Request) => {
    const url = new URL(String(input));
    requests.push(url.search);
    const pgnos: number[] = [];
    for (const part of url.searchParams.get('pgno')!.split(',')) {
      const [a, b = a] = part.split('-').map(Number);
      for (let p = a; p <= b; p++) pgnos.push(p);
    }
    const pages = pgnos.filter((p) => p <= commit).map((pgno) => ({ pgno, data: new Uint8Array(PAGE_SIZE).fill(pgno & 0xff) }));
    return new Response(encodePageBatch(pages), { headers: { 'ltx-txid': '0000000000000007' } });
  }) as typeof fetch;
  return { api: new ApiClient({ url: 'http://fake.invalid', token: 't' }, { fetch: fetchFn, retries: 0 }), requests };
}

describe('chunkPgnos', () => {
  it('splits any page list into requests of ≤ 4,096 pages and a bounded pgno list, losing none', () => {
    const rng = prng(SEED);
    console.log(`page-store tests: seed ${SEED} (repeat with LTX_CLIENT_SEED=${SEED})`);
    for (const n of [1, 10, 4096, 4097, 20_000]) {
      const input = Array.from({ length: n }, () => 1 + rng.int(n < 5000 ? 1_000_000 : 30_000));
      const chunks = chunkPgnos(input);
      expect(chunks.flat()).toEqual([...new Set(input)].sort((a, b) => a - b));
      for (const c of chunks) {
        expect(c.length).toBeLessThanOrEqual(MAX_BATCH_PAGES);
        expect(formatPgnoList(c).length).toBeLessThanOrEqual(4000);
      }
    }
    expect(chunkPgnos(Array.from({ length: 10_000 }, (_, i) => i + 1)).length).toBe(3); // runs: bounded by the page count
  });
});

describe('PageStore.findCommit', () => {
  const cases: { commit: number; hint: number | undefined }[] = [];
  for (const commit of [1, 2, 3, 17, 1000, 65_535, 262_145, 2 ** 31 + 5, 0xffffffff]) {
    for (const hint of [commit, undefined, Math.max(1, commit >> 1), commit + 1000]) cases.push({ commit, hint });
  }
  it.each(cases)('commit $commit, hint $hint', async ({ commit, hint }) => {
    const { api, requests } = fakeServer(commit);
    const store = new PageStore(api, 'x');
    expect(await store.findCommit(7n, PAGE_SIZE, hint)).toBe(commit);
    expect(requests.length).toBeLessThanOrEqual(hint === commit ? 1 : 9);
    for (const q of requests) expect(q).toContain('txid=0000000000000007');
  });
});

describe('PageStore epochs', () => {
  it('fetch at a TXID; advance drops changed pages and those beyond the commit; an old epoch neither reads nor fills', async () => {
    const { api } = fakeServer(100);
    const store = new PageStore(api, 'x');
    const e0 = store.epoch;
    const got = await store.fetch(7n, PAGE_SIZE, [3, 1, 2, 50, 99, 100, 101]);
    expect([...got.keys()].sort((a, b) => a - b)).toEqual([1, 2, 3, 50, 99, 100]);
    for (const [p, d] of got) store.put(p, d, e0);
    const e1 = store.advance([2, 50], 99);
    expect(e1).not.toBe(e0);
    expect([1, 2, 3, 50, 99, 100].filter((p) => store.has(p, e1))).toEqual([1, 3, 99]);
    expect(store.stats.invalidated).toBe(3);
    expect(store.get(1, e0)).toBeUndefined();
    store.put(7, new Uint8Array(PAGE_SIZE), e0);
    expect(store.has(7, e1)).toBe(false);
    expect(store.get(3, e1)?.[0]).toBe(3);
    store.advance('all', 99);
    expect(store.cache.stats.entries).toBe(0);
    await expect(store.fetch(8n, PAGE_SIZE, [1])).rejects.toMatchObject({ code: 'BAD_RESPONSE' }); // answered at TXID 7
  });

  it('serves an attached local copy only at its epoch, the LRU first, and counts its reads', async () => {
    const { api, requests } = fakeServer(50);
    const store = new PageStore(api, 'db', 1 << 20);
    const reads: number[] = [];
    const local = {
      readPage: (p: number): Uint8Array => {
        reads.push(p);
        return new Uint8Array(PAGE_SIZE).fill(0xaa);
      },
    };
    const e0 = store.epoch;
    store.put(2, new Uint8Array(PAGE_SIZE).fill(2), e0);
    store.attachLocal(local, e0);
    expect(store.servesLocally).toBe(true);
    expect(store.get(2, e0)?.[0]).toBe(2);
    expect(store.get(9, e0)?.[0]).toBe(0xaa);
    expect(store.has(40, e0)).toBe(true);
    expect(reads).toEqual([9]);
    expect(store.stats).toMatchObject({ localReads: 1, cacheHits: 1, requests: 0 });
    // The cache moves on: the copy no longer serves until attached at the new epoch.
    const e1 = store.advance([9], 50);
    expect(store.servesLocally).toBe(false);
    expect(store.get(9, e1)).toBeUndefined();
    expect(store.has(40, e1)).toBe(false);
    store.attachLocal(local, e0); // an old epoch: ignored
    expect(store.servesLocally).toBe(false);
    store.attachLocal(local, e1);
    expect(store.get(9, e1)?.[0]).toBe(0xaa);
    store.detachLocal();
    expect(store.get(10, e1)).toBeUndefined();
    expect(requests).toEqual([]);
  });

  it('page 1 states the database size only when SQLite marks it valid', () => {
    const page = new Uint8Array(4096);
    const v = new DataView(page.buffer);
    v.setUint32(28, 1234);
    v.setUint32(24, 9);
    v.setUint32(92, 9);
    expect(headerPageCount(page)).toBe(1234);
    v.setUint32(92, 8);
    expect(headerPageCount(page)).toBeUndefined();
    expect(headerPageCount(page.subarray(0, 50))).toBeUndefined();
  });
});
