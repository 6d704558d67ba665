// Every file the DO catalogues (a push, a compaction, a snapshot) records its page index's length, and read plans carry it.

import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { DatabaseDO } from '../../src/durable/database.ts';
import { decodeLTX } from '../../src/ltx/index.ts';
import { ltxKey } from '../../src/storage/keys.ts';
import { buildChain } from '../helpers/chain.ts';

describe('index lengths in the catalog and the plan', () => {
  it('a push, a compaction and a snapshot each record theirs; plans hand them to readers', async () => {
    const db = 'index-bytes';
    const stub = env.DATABASE.getByName(db);
    // A first file of 9,000 pages: its index is past the readers' 32 KiB probe.
    const chain = await buildChain({ seed: 4343, count: 5, pageSize: 512, big: { 0: 9000 } });
    for (const f of chain) expect((await stub.ingest(db, f.bytes)).ok).toBe(true);
    const compacted = await stub.compact(db, { level: 1, minTXID: 2n, maxTXID: 5n });
    expect(compacted.ok).toBe(true);
    const snapshot = await stub.maintain(db, Date.now() + 86_400_000, { kind: 'snapshot' });
    expect(snapshot.ok).toBe(true);
    const rows = await runInDurableObject(stub, (i: DatabaseDO) => i.catalog.files());
    expect(rows.map((f) => f.level).sort()).toEqual([0, 0, 0, 0, 0, 1, 9]);
    for (const f of rows) {
      const obj = await env.LTX_BUCKET.get(ltxKey('db', db, f.level, f.minTXID, f.maxTXID));
      expect(f.indexBytes, `level ${f.level}`).toBe(decodeLTX(new Uint8Array(await obj!.arrayBuffer())).indexBytes);
    }
    expect(rows.find((f) => f.level === 0 && f.minTXID === 1n)!.indexBytes).toBeGreaterThan(32 * 1024);
    const plan = await stub.plan(db, { txid: '0000000000000003' });
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    for (const f of plan.value.plan.files) {
      const row = rows.find((r) => r.level === f.level && r.minTXID === f.minTXID && r.maxTXID === f.maxTXID)!;
      expect(f.indexBytes).toBe(row.indexBytes);
    }
  });
});
