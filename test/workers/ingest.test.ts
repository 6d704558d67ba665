// Pushing the reference chains over HTTP: the manifest's position, the exact files under the Litestream layout.

import { env, exports } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';

const BASE = 'https://ltx-edge.test';
const AUTH = { authorization: 'Bearer dev-token' };
const { manifest, files } = inject('ltxVectors');

function bytesOf(rel: string): Uint8Array {
  return Uint8Array.from(atob(files[rel]), (c) => c.charCodeAt(0));
}

/** With `declared`, as a client with the bytes in hand sends it (Content-Length: read whole by the Worker); else streamed. */
function push(db: string, body: Uint8Array, declared = false): Promise<Response> {
  const headers = declared ? { ...AUTH, 'content-length': String(body.length) } : AUTH;
  return exports.default.fetch(`${BASE}/v1/databases/${db}/ltx`, { method: 'POST', headers, body });
}

/** The chains: each set's files in TXID order (compacted files excluded). */
function chains(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of manifest.files) {
    if (f.path.includes('/compacted/') || f.set === 'block-pagesizes') continue;
    out.set(f.set, [...(out.get(f.set) ?? []), f.path].sort());
  }
  for (const f of manifest.files.filter((f) => f.set === 'block-pagesizes')) out.set(f.path, [f.path]);
  return out;
}

describe('push the reference chains', () => {
  it.each([...chains()].map(([set, paths]) => [set, paths] as const))('%s', async (set, paths) => {
    const db = `chain-${set.replace(/[^a-z0-9]/g, '-')}`.slice(0, 60);
    for (const p of paths) {
      const res = await push(db, bytesOf(p), true);
      const body = (await res.json()) as { pos: { txid: string; postApplyChecksum: string } };
      expect(res.status, JSON.stringify(body)).toBe(201);
      const m = manifest.files.find((f) => f.path === p)!;
      expect(body.pos.txid).toBe(m.decoded.header.max_txid);
      expect(body.pos.postApplyChecksum).toBe(m.db_after!.rolling_checksum);
      // Re-pushing a committed file is an idempotent 200.
      const again = await push(db, bytesOf(p));
      expect(again.status).toBe(200);
      await again.body?.cancel();
    }
    for (const p of paths) {
      const name = p.split('/').pop()!;
      const key = `db/${db}/0000/${name}`;
      const obj = await env.LTX_BUCKET.get(key);
      expect(obj, key).not.toBeNull();
      expect(new Uint8Array(await obj!.arrayBuffer())).toEqual(bytesOf(p));
      const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/ltx/0000/${name}`, { headers: AUTH });
      expect(res.status).toBe(200);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytesOf(p));
    }
  });
});
