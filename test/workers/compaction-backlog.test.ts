// A backlog compacted at once (a cron that was down, a burst of pushes): 1,000 small L0 files into
// one L1 file with bounded connections and memory, and exactly their pages.

import { runInDurableObject } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import type { DatabaseDO } from '../../src/durable/database.ts';
import { HEADER_FLAG_NO_CHECKSUM, decodeLTX } from '../../src/ltx/index.ts';
import { buildChain } from '../helpers/chain.ts';
import { CountingStore } from '../helpers/counting-store.ts';
import { AUTH, BASE, ChainModel, checkCompactedFile, fileId, forgetInRegistry, hex, listing, push } from '../helpers/cron-sim.ts';

// Later files' ticks must not find this file's databases due (the registry is shared).
afterAll(() => forgetInRegistry('backlog-1000', 'mixed-inputs'));

describe('a backlog compacted at once', () => {
  it('1,000 L0 files into one L1 file: exactly their pages, one get per input, at most 6 R2 connections at a time', async () => {
    const db = 'backlog-1000';
    const chain = await buildChain({ seed: 1002, count: 1000 });
    const model = new ChainModel(chain);
    for (const f of chain) expect(await push(db, f)).toBe(201);
    const counting = await runInDurableObject(env.DATABASE.getByName(db), (instance: DatabaseDO) => {
      const store = new CountingStore(instance.store);
      instance.store = store;
      return store;
    });
    const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/compact?level=1`, { method: 'POST', headers: AUTH });
    const body = (await res.json()) as { actions: { kind: string; ok: boolean; files: number }[] };
    expect(body.actions).toEqual([expect.objectContaining({ kind: 'compact', ok: true, files: 1000 })]);
    const counts = await runInDurableObject(env.DATABASE.getByName(db), () => ({ ...counting.counts }));
    // Small inputs are read whole (their flags from the bytes) and pre-merged 32 at a time: not a
    // stream, a decoder and a connection per input all open at once.
    expect(counts.gets).toBe(1000);
    expect(counts.maxConnections).toBeLessThanOrEqual(6);
    const l1 = (await listing(db)).filter((f) => f.level === 1);
    expect(l1.map(fileId)).toEqual([`1/${hex(1)}-${hex(1000)}`]);
    expect(await checkCompactedFile(db, l1[0], model)).toBeNull();
  }, 60_000);
});

describe('a run mixing large and small inputs', () => {
  it('checksum-tracking chain of 80 files, two of them over 4 MiB: large ones streamed, the small ones read whole and pre-merged around them; exact pages, tracked output', async () => {
    const db = 'mixed-inputs';
    // Files 0 (the snapshot) and 40 carry 1,100 random pages (~4.3 MiB): they stay streamed.
    const chain = await buildChain({ seed: 1003, count: 80, tracked: true, big: { 0: 1100, 40: 1100 } });
    const model = new ChainModel(chain);
    for (const f of chain) expect(await push(db, f)).toBe(201);
    const counting = await runInDurableObject(env.DATABASE.getByName(db), (instance: DatabaseDO) => {
      const store = new CountingStore(instance.store);
      instance.store = store;
      return store;
    });
    const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/compact?level=1`, { method: 'POST', headers: AUTH });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const counts = await runInDurableObject(env.DATABASE.getByName(db), () => ({ ...counting.counts }));
    expect(counts.maxConnections).toBeLessThanOrEqual(6);
    const l1 = (await listing(db)).filter((f) => f.level === 1);
    expect(l1.map(fileId)).toEqual([`1/${hex(1)}-${hex(80)}`]);
    expect(l1[0].postApplyChecksum).toBe(hex(chain[79].checksum));
    expect(await checkCompactedFile(db, l1[0], model)).toBeNull();
    // Tracked all the way through the pre-merged groups: the output carries the chain's checksum.
    const bytes = new Uint8Array(
      await (await exports.default.fetch(`${BASE}/v1/databases/${db}/ltx/1/${hex(1)}-${hex(80)}.ltx`, { headers: AUTH })).arrayBuffer(),
    );
    const d = decodeLTX(bytes);
    expect(d.header.flags & HEADER_FLAG_NO_CHECKSUM).toBe(0);
    expect(d.trailer.postApplyChecksum).toBe(chain[79].checksum);
  }, 60_000);
});
