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
  it('head and explicit-TXID reads stay correct through compaction, a snapshot and retention; TXIDs no longer held answer 410', async () => {
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

    // Compact TXIDs 2..20 into one level-1 file and snapshot the head, while readers keep reading:
    // the inputs stay until retention.
    const stub = env.DATABASE.getByName(db);
    const later = Date.now() + 3_600_000; // an hour on: every interval boundary and grace period passed
    const during = Array.from({ length: 4 }, (_, i) => pagesAt(db, i % 2 ? 20 : undefined, states[19].length));
    const [compacted, ...reads1] = await Promise.all([stub.compact(db, { level: 1, minTXID: 2n, maxTXID: 20n }), ...during]);
    expect(compacted.ok).toBe(true);
    const snapshot = await stub.maintain(db, later, { kind: 'snapshot' });
    expect(snapshot.ok && snapshot.value.actions.map((a) => [a.kind, a.ok])).toEqual([['snapshot', true]]);
    // Retention deletes what the snapshot and level 1 made redundant, while readers keep reading.
    const readers = Array.from({ length: 8 }, (_, i) => pagesAt(db, i % 2 ? 20 : undefined, states[19].length));
    const [retention, ...reads2] = await Promise.all([stub.maintain(db, later, { kind: 'retention' }), ...readers]);
    expect(retention.ok && retention.value.actions.every((a) => a.kind === 'delete' && a.ok)).toBe(true);
    for (const r of [...reads1, ...reads2]) {
      expect(r.status).toBe(200);
      expect(r.pages).toEqual(states[19]);
    }
    // Level 0 is down to its newest file; the snapshot carries the head.
    const listed = await env.LTX_BUCKET.list({ prefix: `db/${db}/` });
    const keys = listed.objects.map((o) => o.key).sort();
    expect(keys).toContain(`db/${db}/0009/${hex(1)}-${hex(20)}.ltx`);
    expect(keys.filter((k) => k.includes('/0000/'))).toEqual([`db/${db}/0000/${hex(20)}-${hex(20)}.ltx`]);
    // A cached plan for TXID 20 named deleted files: re-planned once, same bytes.
    expect((await pagesAt(db, 20, states[19].length)).pages).toEqual(states[19]);
    expect((await pagesAt(db, undefined, states[19].length)).pages).toEqual(states[19]);
    // TXID 10 was inside the compacted range: no longer restorable exactly.
    expect((await pagesAt(db, 10, states[9].length)).status).toBe(410);
    // A snapshot at the head from the compacted files equals the model too.
    const snap = await exports.default.fetch(`${BASE}/v1/databases/${db}/snapshot`, { headers: AUTH });
    const bytes = new Uint8Array(await snap.arrayBuffer());
    const expected = new Uint8Array(states[19].length * 4096);
    states[19].forEach((p, i) => {
      expected.set(p, i * 4096);
    });
    expect(bytes).toEqual(expected);
  });
});
