// FaultyObjectStore: seeded, reproducible faults before and after the operation, timeouts, stats.
import { describe, expect, it } from 'vitest';
import { FAULT_OPS, FaultyObjectStore, InjectedStorageError, type FaultOp, type InjectedFault } from '../../../src/storage/faulty-store.ts';
import { MemoryObjectStore } from '../../../src/storage/memory-store.ts';
import { StorageError, type ObjectStore } from '../../../src/storage/object-store.ts';

/** Runs a fixed script of calls and records, per call, "ok" or the injected fault kind. */
async function script(store: ObjectStore, n = 60): Promise<string[]> {
  const out: string[] = [];
  const attempt = async (f: () => Promise<unknown>): Promise<void> => {
    try {
      await f();
      out.push('ok');
    } catch (e) {
      if (!(e instanceof InjectedStorageError)) throw e;
      out.push(e.fault.kind);
    }
  };
  for (let i = 0; i < n; i++) {
    const key = `k/${i % 7}`;
    await attempt(() => store.put(key, new Uint8Array([i])));
    await attempt(() => store.get(key));
    await attempt(() => store.head(key));
    await attempt(() => store.list({ prefix: 'k/' }));
    if (i % 5 === 4) await attempt(() => store.delete(key));
  }
  return out;
}

describe('FaultyObjectStore', () => {
  it('injects the same faults for the same seed and different ones for another seed', async () => {
    const run = (seed: number) => script(new FaultyObjectStore(new MemoryObjectStore(), { seed, failureRate: 0.3, timeoutRate: 0.1 }));
    const a = await run(42);
    expect(await run(42)).toEqual(a);
    expect(await run(43)).not.toEqual(a);
    expect(a.filter((k) => k !== 'ok').length).toBeGreaterThan(20);
  });

  it('fails before (nothing written) and after (written, response lost), and counts both', async () => {
    const inner = new MemoryObjectStore();
    const store = new FaultyObjectStore(inner, { seed: 7, failureRate: 0.5, ops: ['put'] });
    const seen = { before: 0, after: 0 };
    for (let i = 0; i < 200; i++) {
      const key = `p/${i}`;
      try {
        await store.put(key, new Uint8Array([1]));
        expect(await inner.head(key)).not.toBeNull();
      } catch (e) {
        expect(e).toBeInstanceOf(StorageError);
        const err = e as InjectedStorageError;
        expect(err.code).toBe('STORAGE_UNAVAILABLE');
        expect(err.retryable).toBe(true);
        expect(err.op).toBe('put');
        expect(err.key).toBe(key);
        const written = (await inner.head(key)) !== null;
        expect(written).toBe(err.fault.kind === 'after');
        seen[err.fault.kind as 'before' | 'after']++;
      }
    }
    expect(seen.before).toBeGreaterThan(30);
    expect(seen.after).toBeGreaterThan(30);
    expect(store.stats).toMatchObject({ calls: 200, before: seen.before, after: seen.after, timeouts: 0 });
    expect(store.stats.byOp.put).toMatchObject({ calls: 200, before: seen.before, after: seen.after });
    expect(store.faults).toHaveLength(seen.before + seen.after);
  });

  it('times out through the injected delay, with or without the operation applied', async () => {
    const inner = new MemoryObjectStore();
    let delays = 0;
    const store = new FaultyObjectStore(inner, { seed: 3, failureRate: 0, timeoutRate: 1, delay: async () => void delays++ });
    const applied: boolean[] = [];
    for (let i = 0; i < 40; i++) {
      const err = await store.put(`t/${i}`, new Uint8Array(1)).then(
        () => null,
        (e: unknown) => e as InjectedStorageError,
      );
      expect(err).toMatchObject({ code: 'STORAGE_TIMEOUT', retryable: true });
      expect((await inner.head(`t/${i}`)) !== null).toBe(err!.fault.applied);
      applied.push(err!.fault.applied);
    }
    expect(applied).toContain(true);
    expect(applied).toContain(false);
    expect(delays).toBe(40);
    expect(store.stats.timeouts).toBe(40);
  });

  it('uses a real timer tick by default, not a long sleep', async () => {
    const store = new FaultyObjectStore(new MemoryObjectStore(), { seed: 1, failureRate: 0, timeoutRate: 1 });
    const t0 = Date.now();
    await expect(store.head('x')).rejects.toMatchObject({ code: 'STORAGE_TIMEOUT' });
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('faults every operation, including multipart parts, completes and aborts', async () => {
    const inner = new MemoryObjectStore({ minPartSize: 1 });
    const store = new FaultyObjectStore(inner, { seed: 11, failureRate: 0.4, timeoutRate: 0.1, delay: async () => {} });
    // Every call either succeeds, fails with an injected fault, or fails with a real StorageError.
    const settle = (p: Promise<unknown>): Promise<unknown> => p.catch((e: unknown) => expect(e).toBeInstanceOf(StorageError));
    for (let i = 0; i < 80; i++) {
      await settle(store.put(`a/${i}`, new Uint8Array(1)));
      await settle(store.get(`a/${i}`));
      await settle(store.head(`a/${i}`));
      await settle(store.list({ prefix: 'a/' }));
      await settle(store.delete([`a/${i}`]));
      const up = await store.createMultipart(`m/${i}`).catch(async () => {
        const started = await inner.createMultipart(`m/${i}`);
        return store.resumeMultipart(started.key, started.uploadId);
      });
      const part = await up.uploadPart(1, new Uint8Array(1)).catch(() => ({ partNumber: 1, etag: 'lost' }));
      await settle(up.complete([part]));
      await settle(up.abort());
    }
    for (const op of FAULT_OPS) {
      const c = store.stats.byOp[op];
      expect(c.calls, op).toBeGreaterThan(0);
      expect(c.before + c.after + c.timeouts, op).toBeGreaterThan(0);
    }
    const total = (k: 'before' | 'after' | 'timeouts'): number => FAULT_OPS.reduce((n, op) => n + store.stats.byOp[op][k], 0);
    expect(store.stats.before).toBe(total('before'));
    expect(store.stats.after).toBe(total('after'));
    expect(store.stats.timeouts).toBe(total('timeouts'));
  });

  it('faults only the chosen ops, and nothing when disabled', async () => {
    const ops: FaultOp[] = ['uploadPart', 'complete'];
    const store = new FaultyObjectStore(new MemoryObjectStore(), { seed: 5, failureRate: 1, ops });
    await store.put('a', new Uint8Array(1));
    expect(await store.get('a')).not.toBeNull();
    const up = await store.createMultipart('m');
    await expect(up.uploadPart(1, new Uint8Array(1))).rejects.toBeInstanceOf(InjectedStorageError);
    store.enabled = false;
    const part = await up.uploadPart(1, new Uint8Array(1));
    expect((await up.complete([part])).size).toBe(1);
    expect(store.faults.map((f: InjectedFault) => f.op)).toEqual(['uploadPart']);
  });

  it('passes real errors of the inner store through', async () => {
    const store = new FaultyObjectStore(new MemoryObjectStore(), { seed: 9, failureRate: 0 });
    await expect(store.get('a', { offset: -1 })).rejects.toMatchObject({ code: 'STORAGE_INVALID_ARGUMENT' });
    expect(store.faults).toEqual([]);
  });

  it('an after-fault on a failing operation surfaces the real error', async () => {
    const store = new FaultyObjectStore(new MemoryObjectStore(), { seed: 2, failureRate: 1, afterShare: 1 });
    const err = await store.list({ prefix: '', limit: 0 }).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(InjectedStorageError);
    expect(err).toMatchObject({ code: 'STORAGE_INVALID_ARGUMENT' });
  });
});
