// Workers side: pushes a query workload's LTX chain through the API and returns the database file at every TXID, as the codec rebuilds it.

import { expect } from 'vitest';
import { DatabaseState, MemoryDatabase, applyLTX } from '../../src/ltx/index.ts';
import type { Workload } from './query-workload.ts';

export function bytesOf(b64: string): Uint8Array {
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/** Pushes `w` under `name` with `call` (path, init) → Response; images[n - 1] = the file at TXID n. */
export async function pushWorkload(
  call: (path: string, init?: RequestInit) => Promise<Response>,
  name: string,
  w: Workload,
): Promise<Uint8Array[]> {
  const state = new DatabaseState();
  const model = new MemoryDatabase();
  const images: Uint8Array[] = [];
  for (const b64 of w.ltx) {
    const res = await call(`/v1/databases/${name}/ltx`, { method: 'POST', body: bytesOf(b64) });
    expect(res.status, await res.clone().text()).toBe(201);
    await applyLTX(state, [bytesOf(b64)], model);
    const image = new Uint8Array(model.commit * model.pageSize);
    for (let p = 1; p <= model.commit; p++) image.set(model.page(p), (p - 1) * model.pageSize);
    images.push(image);
  }
  return images;
}
