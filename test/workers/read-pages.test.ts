// Page reads at every TXID of the reference chains equal an independent reconstruction; R2 and DO call counts.

import { exports } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';
import { DatabaseState, MemoryDatabase, applyLTX, decodeLTX } from '../../src/ltx/index.ts';
import { decodePageBatch } from '../../src/replication/page-batch.ts';

const BASE = 'https://ltx-edge.test';
const AUTH = { authorization: 'Bearer dev-token' };
const { manifest, files } = inject('ltxVectors');

function bytesOf(rel: string): Uint8Array {
  return Uint8Array.from(atob(files[rel]), (c) => c.charCodeAt(0));
}

const get = (path: string) => exports.default.fetch(`${BASE}${path}`, { headers: AUTH });

/** Chains (files in TXID order) of the sets with several TXIDs. */
const SETS = ['block-ps4096', 'block-ps4096-nochecksum', 'block-ps512', 'block-ps65536', 'frame-legacy-ps4096', 'sqlite-ps4096'];

describe('pages at every TXID equal the reconstruction', () => {
  it.each(SETS)('%s', async (set) => {
    const chain = manifest.files
      .filter((f) => f.set === set && !f.path.includes('/compacted/'))
      .map((f) => f.path)
      .sort();
    const db = `read-${set}`.slice(0, 60);
    const state = new DatabaseState();
    const model = new MemoryDatabase();
    const states: { txid: string; commit: number; pageSize: number; pages: Uint8Array[] }[] = [];
    for (const p of chain) {
      const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/ltx`, { method: 'POST', headers: AUTH, body: bytesOf(p) });
      expect(res.status).toBe(201);
      await res.body?.cancel();
      const { header } = await applyLTX(state, [bytesOf(p)], model);
      const pages = Array.from({ length: model.commit }, (_, i) => model.page(i + 1).slice());
      states.push({ txid: header.maxTXID.toString(16).padStart(16, '0'), commit: model.commit, pageSize: model.pageSize, pages });
    }
    for (const s of states) {
      // Batch: every page 1..commit+2 (past-commit pages are omitted).
      if (s.commit > 0) {
        const res = await get(`/v1/databases/${db}/pages?pgno=1-${s.commit + 2}&txid=${s.txid}`);
        expect(res.status).toBe(200);
        expect(res.headers.get('ltx-txid')).toBe(s.txid);
        expect(res.headers.get('cache-control')).toContain('immutable');
        const batch = decodePageBatch(new Uint8Array(await res.arrayBuffer()), s.pageSize);
        if (!batch.ok) throw new Error(batch.message);
        expect(batch.pages.map((p) => p.pgno)).toEqual(s.pages.map((_, i) => i + 1));
        batch.pages.forEach((p, i) => {
          expect(p.data).toEqual(s.pages[i]);
        });
      }
      // Single pages: the first and the last, and one past the end → 404.
      for (const pgno of s.commit > 0 ? [1, s.commit] : []) {
        const res = await get(`/v1/databases/${db}/pages/${pgno}?txid=${s.txid}`);
        expect(res.status).toBe(200);
        expect(new Uint8Array(await res.arrayBuffer())).toEqual(s.pages[pgno - 1]);
      }
      const past = await get(`/v1/databases/${db}/pages/${s.commit + 1}?txid=${s.txid}`);
      expect(past.status).toBe(404);
      await past.body?.cancel();
    }
    // Snapshots at every TXID: the database file, byte for byte; the LTX form decodes to it.
    for (const s of states) {
      const res = await get(`/v1/databases/${db}/snapshot?txid=${s.txid}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-length')).toBe(String(s.commit * s.pageSize));
      const bytes = new Uint8Array(await res.arrayBuffer());
      const expected = new Uint8Array(s.commit * s.pageSize);
      s.pages.forEach((p, i) => {
        expected.set(p, i * s.pageSize);
      });
      expect(bytes.length).toBe(expected.length);
      expect(bytes).toEqual(expected);
      if (s.commit === 0) continue;
      const ltx = await get(`/v1/databases/${db}/snapshot?txid=${s.txid}&format=ltx`);
      const decoded = decodeLTX(new Uint8Array(await ltx.arrayBuffer()));
      expect(decoded.header.commit).toBe(s.commit);
      for (const p of decoded.pages) expect(p.data).toEqual(s.pages[p.pgno - 1]);
    }
    if (set === 'sqlite-ps4096') {
      for (const n of [1, 2, 3]) {
        const res = await get(`/v1/databases/${db}/snapshot?txid=000000000000000${n}`);
        expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytesOf(`sqlite-ps4096/state-txid${n}.db`));
      }
    }
    // At the head (no txid): the last state, not cacheable.
    const last = states[states.length - 1];
    if (last.commit > 0) {
      const res = await get(`/v1/databases/${db}/pages/1`);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(last.pages[0]);
    }
  });
});
