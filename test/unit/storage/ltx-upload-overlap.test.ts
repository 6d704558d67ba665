// LtxUpload keeps one part on its way to R2 while the next fills, never two, and a failed part surfaces at the next step.

import { describe, expect, it } from 'vitest';
import { LtxUpload } from '../../../src/durable/ltx-upload.ts';
import { MemoryObjectStore } from '../../../src/storage/memory-store.ts';
import type { MultipartUpload, ObjectStore } from '../../../src/storage/object-store.ts';
import { withOverrides } from '../../helpers/store-overrides.ts';

/** A store whose part uploads wait until released, one release per part; `failNext` makes the next one fail. */
function gatedStore() {
  const memory = new MemoryObjectStore({ minPartSize: 1 });
  const gates: (() => void)[] = [];
  const state = { started: 0, failNext: false };
  const gate = (u: MultipartUpload): MultipartUpload => ({
    key: u.key,
    uploadId: u.uploadId,
    uploadPart: async (n, b) => {
      state.started++;
      const fail = state.failNext;
      state.failNext = false;
      await new Promise<void>((resolve) => gates.push(resolve));
      if (fail) throw new Error('injected part failure');
      return u.uploadPart(n, b);
    },
    complete: (parts) => u.complete(parts),
    abort: () => u.abort(),
  });
  const store: ObjectStore = withOverrides(memory, {
    createMultipart: async (k, o) => gate(await memory.createMultipart(k, o)),
    resumeMultipart: (k, id) => gate(memory.resumeMultipart(k, id)),
  });
  const release = async (): Promise<void> => {
    while (gates.length === 0) await new Promise((r) => setTimeout(r, 0));
    gates.shift()!();
  };
  return { memory, store, state, release };
}

const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);
/** Whether `p` settles within a few turns of the event loop (nothing else can make it). */
async function settles(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 20 && !done; i++) await new Promise((r) => setTimeout(r, 0));
  return done;
}

describe('LtxUpload part overlap', () => {
  it('returns from write while the filled part uploads, waits only when a second one is ready', async () => {
    const g = gatedStore();
    const up = new LtxUpload(g.store, 'k', { customMetadata: {}, partSize: 4, retryDelayMs: 0 });
    expect(await settles(up.write(bytes(4, 1)))).toBe(true); // part 1 on its way, not awaited
    expect(g.state.started).toBe(1);
    const second = up.write(bytes(4, 2));
    expect(await settles(second)).toBe(false); // part 2 ready: waits for part 1
    expect(g.state.started).toBe(1);
    await g.release();
    await second;
    expect(g.state.started).toBe(2);
    await up.write(bytes(3, 3));
    const done = up.finish();
    await g.release(); // part 2
    await g.release(); // the last part
    expect((await done).size).toBe(11);
    expect(await (await g.memory.get('k'))!.bytes()).toEqual(new Uint8Array([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3]));
  });

  it('a part that fails is thrown by the next write or finish; abort then leaves nothing', async () => {
    const g = gatedStore();
    const up = new LtxUpload(g.store, 'k', { customMetadata: {}, partSize: 4, retryDelayMs: 0 });
    g.state.failNext = true;
    await up.write(bytes(4, 1));
    const next = up.write(bytes(4, 2));
    await g.release();
    await expect(next).rejects.toThrow('injected part failure');
    await up.abort();
    expect(await g.memory.head('k')).toBeNull();
    expect((await g.memory.list({ prefix: '' })).objects).toEqual([]);
  });
});
