// Non-destructive restore: the past state becomes the next TXID, and restoring again undoes it, byte for byte.

import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { buildChain } from '../helpers/chain.ts';

const BASE = 'https://ltx-edge.test';
const AUTH = { authorization: 'Bearer dev-token' };
const hex = (n: bigint | number) => n.toString(16).padStart(16, '0');

async function snapshot(db: string, txid?: bigint): Promise<Uint8Array> {
  const q = txid === undefined ? '' : `?txid=${hex(txid)}`;
  const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/snapshot${q}`, { headers: AUTH });
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

async function restore(db: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/restore`, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('restore', () => {
  it('writes the past state as a new TXID, and undoing it restores the exact bytes', async () => {
    const db = 'restore-undo';
    const chain = await buildChain({ seed: 77, count: 12, tracked: true });
    for (const f of chain) {
      const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/ltx`, { method: 'POST', headers: AUTH, body: f.bytes });
      expect(res.status).toBe(201);
      await res.body?.cancel();
    }
    const before = await snapshot(db); // the head, TXID 12
    const past = await snapshot(db, 5n);

    const r1 = await restore(db, { txid: hex(5) });
    expect(r1.status).toBe(201);
    expect((r1.json.pos as { txid: string }).txid).toBe(hex(13));
    expect(r1.json.restoredFrom).toBe(hex(5));
    expect(await snapshot(db)).toEqual(past);
    expect(await snapshot(db, 13n)).toEqual(past);
    expect(await snapshot(db, 12n)).toEqual(before); // history is intact

    const r2 = await restore(db, { txid: hex(12) }); // undo
    expect(r2.status).toBe(201);
    expect((r2.json.pos as { txid: string }).txid).toBe(hex(14));
    expect(await snapshot(db)).toEqual(before);
    // The checksum chain holds: the position after undo is the head checksum before the restore.
    expect((r2.json.pos as { postApplyChecksum: string }).postApplyChecksum).toBe(hex(chain[11].checksum));
  });

  it('refuses bad requests without changing anything', async () => {
    const db = 'restore-bad';
    const chain = await buildChain({ seed: 78, count: 3 });
    for (const f of chain)
      await (
        await exports.default.fetch(`${BASE}/v1/databases/${db}/ltx`, { method: 'POST', headers: AUTH, body: f.bytes })
      ).body?.cancel();
    for (const [body, status] of [
      [{}, 400],
      [{ txid: hex(1), at: 'now' }, 400],
      [{ txid: 'zz' }, 400],
      [{ txid: hex(9) }, 409],
      [{ at: 'in 5 minutes' }, 400],
    ] as const) {
      expect((await restore(db, body)).status).toBe(status);
    }
    const info = (await (await exports.default.fetch(`${BASE}/v1/databases/${db}`, { headers: AUTH })).json()) as { pos: { txid: string } };
    expect(info.pos.txid).toBe(hex(3));
  });
});
