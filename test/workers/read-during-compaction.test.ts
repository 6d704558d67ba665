// Reads keep working while the DO compacts files and deletes the inputs: stale plans re-plan once.

import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { DatabaseState, MemoryDatabase, applyLTX } from '../../src/ltx/index.ts';
import { decodePageBatch } from '../../src/replication/page-batch.ts';
import { buildChain } from '../helpers/chain.ts';

const BASE = 'https://ltx-edge.test';
const AUTH = { authorization: 'Bearer dev-token' };
const hex = (n: number) => n.toString(16).padStart(16, '0');

async function pagesAt(db: string, txid: number | undefined, commit: number): Promise<{ status: number; pages?: Uint8Array[] }> {
  const q = txid === undefined ? '' : `&txid=${hex(txid)}`;
  const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/pages?pgno=1-${commit}${q}`, { headers: AUTH });
  if (res.status !== 200) {
    await res.body?.cancel();
    return { status: res.status };
  }
  const batch = decodePageBatch(new Uint8Array(await res.arrayBuffer()), 4096);
  if (!batch.ok) throw new Error(batch.message);
  return { status: 200, pages: batch.pages.map((p) => p.data) };
}

describe('reads during compaction', () => {
  it('head and explicit-TXID reads stay correct; TXIDs compacted away answer 410', async () => {
    const db = 'read-compact';
    const chain = await buildChain({ seed: 41, count: 20 });
    const states: Uint8Array[][] = [];
    const state = new DatabaseState();
    const model = new MemoryDatabase();
    for (const f of chain) {
      const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/ltx`, { method: 'POST', headers: AUTH, body: f.bytes });
      expect(res.status).toBe(201);
      await res.body?.cancel();
      await applyLTX(state, [f.bytes], model);
      states.push(Array.from({ length: model.commit }, (_, i) => model.page(i + 1).slice()));
    }
    // Warm the isolate's plan cache for TXIDs 10 and 20 (their plans name level-0 files).
    expect((await pagesAt(db, 10, states[9].length)).pages).toEqual(states[9]);
    expect((await pagesAt(db, 20, states[19].length)).pages).toEqual(states[19]);

    // Compact TXIDs 2..20 into one level-1 file while readers keep reading.
    const stub = env.DATABASE.getByName(db);
    const readers = Array.from({ length: 8 }, (_, i) => pagesAt(db, i % 2 ? 20 : undefined, states[19].length));
    const [compacted, ...reads] = await Promise.all([stub.compact(db, { level: 1, minTXID: 2n, maxTXID: 20n }), ...readers]);
    expect(compacted.ok).toBe(true);
    for (const r of reads) {
      expect(r.status).toBe(200);
      expect(r.pages).toEqual(states[19]);
    }
    // The level-0 inputs are gone from R2 and the catalog.
    const listed = await env.LTX_BUCKET.list({ prefix: `db/${db}/` });
    expect(listed.objects.map((o) => o.key).sort()).toEqual([
      `db/${db}/0000/${hex(1)}-${hex(1)}.ltx`,
      `db/${db}/0001/${hex(2)}-${hex(20)}.ltx`,
    ]);
    // A cached plan for TXID 20 named deleted files: re-planned once, same bytes.
    expect((await pagesAt(db, 20, states[19].length)).pages).toEqual(states[19]);
    expect((await pagesAt(db, undefined, states[19].length)).pages).toEqual(states[19]);
    // TXID 10 was inside the compacted range: no longer restorable exactly.
    expect((await pagesAt(db, 10, states[9].length)).status).toBe(410);
    expect((await pagesAt(db, 1, states[0].length)).pages).toEqual(states[0]);
    // A snapshot at the head from the compacted files equals the model too.
    const snap = await exports.default.fetch(`${BASE}/v1/databases/${db}/snapshot`, { headers: AUTH });
    const bytes = new Uint8Array(await snap.arrayBuffer());
    const expected = new Uint8Array(states[19].length * 4096);
    states[19].forEach((p, i) => expected.set(p, i * 4096));
    expect(bytes).toEqual(expected);
  });
});
