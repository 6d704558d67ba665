// MemoryObjectStore: the ObjectStore contract, plus what only the memory store has (clock, helpers, part size option).
import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../../src/storage/memory-store.ts';
import { StorageError } from '../../../src/storage/object-store.ts';
import { describeObjectStoreContract } from '../../contract/object-store-contract.ts';

describeObjectStoreContract('MemoryObjectStore', () => new MemoryObjectStore());

describe('MemoryObjectStore', () => {
  it('stamps uploaded from the injected clock', async () => {
    let now = Date.UTC(2024, 0, 2, 3, 4, 5, 6);
    const store = new MemoryObjectStore({ now: () => now });
    expect((await store.put('a', new Uint8Array(1)))!.uploaded.toISOString()).toBe('2024-01-02T03:04:05.006Z');
    now += 1000;
    const up = await store.createMultipart('b');
    const info = await up.complete([await up.uploadPart(1, new Uint8Array(2))]);
    expect(info.uploaded.getTime()).toBe(now);
    expect((await store.head('a'))!.uploaded.getTime()).toBe(now - 1000);
  });

  it('gives the same etags for the same history (deterministic)', async () => {
    const run = async (): Promise<string[]> => {
      const store = new MemoryObjectStore({ now: () => 0 });
      const a = await store.put('a', new Uint8Array([1, 2, 3]));
      const up = await store.createMultipart('m');
      const part = await up.uploadPart(1, new Uint8Array([4]));
      const m = await up.complete([part]);
      return [a!.etag, part.etag, m.etag, up.uploadId];
    };
    expect(await run()).toEqual(await run());
  });

  it('lists keys and open uploads for tests', async () => {
    const store = new MemoryObjectStore();
    await store.put('b', new Uint8Array(1));
    await store.put('a', new Uint8Array(1));
    const open = await store.createMultipart('c');
    const done = await store.createMultipart('d');
    await done.abort();
    expect(store.keys()).toEqual(['a', 'b']);
    expect(store.openUploads()).toEqual([{ key: 'c', uploadId: open.uploadId }]);
  });

  it('applies a lowered minPartSize with the same rule', async () => {
    const store = new MemoryObjectStore({ minPartSize: 4 });
    const up = await store.createMultipart('k');
    const p1 = await up.uploadPart(1, new Uint8Array(4));
    const p2 = await up.uploadPart(2, new Uint8Array(3));
    expect((await up.complete([p1, p2])).size).toBe(7);
    const bad = await store.createMultipart('k2');
    const q1 = await bad.uploadPart(1, new Uint8Array(3));
    const q2 = await bad.uploadPart(2, new Uint8Array(1));
    await expect(bad.complete([q1, q2])).rejects.toMatchObject({ code: 'STORAGE_MULTIPART_INVALID' });
  });

  it('rejects unknown uploads and foreign cursors with typed errors', async () => {
    const store = new MemoryObjectStore();
    await expect(store.resumeMultipart('k', 'nope').abort()).rejects.toBeInstanceOf(StorageError);
    await expect(store.resumeMultipart('k', 'nope').uploadPart(1, new Uint8Array(1))).rejects.toMatchObject({
      code: 'STORAGE_NO_SUCH_UPLOAD',
    });
    await expect(store.list({ prefix: '', cursor: 'garbage' })).rejects.toMatchObject({ code: 'STORAGE_INVALID_ARGUMENT' });
  });

  it('streams bodies in chunks of at most chunkSize', async () => {
    const store = new MemoryObjectStore({ chunkSize: 10 });
    await store.put('k', new Uint8Array(25));
    const sizes: number[] = [];
    for await (const chunk of (await store.get('k'))!.body) sizes.push(chunk.length);
    expect(sizes).toEqual([10, 10, 5]);
  });

  it('allows one consumer of a body', async () => {
    const store = new MemoryObjectStore();
    await store.put('k', new Uint8Array(3));
    const got = (await store.get('k'))!;
    await got.bytes();
    expect(() => got.body).toThrow(TypeError);
  });
});
