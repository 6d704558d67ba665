// withRetry: retries only retryable StorageErrors, gives up after N attempts, backs off with jitter, honours abort.
import { describe, expect, it } from 'vitest';
import { FaultyObjectStore } from '../../../src/storage/faulty-store.ts';
import { MemoryObjectStore } from '../../../src/storage/memory-store.ts';
import { StorageError } from '../../../src/storage/object-store.ts';
import { backoffDelay, withRetry } from '../../../src/storage/retry.ts';

const unavailable = (): StorageError => new StorageError('STORAGE_UNAVAILABLE', 'down');

describe('withRetry', () => {
  it('returns the first success and passes the attempt number', async () => {
    const seen: number[] = [];
    const result = await withRetry(
      async (attempt) => {
        seen.push(attempt);
        if (attempt < 3) throw unavailable();
        return 'ok';
      },
      { attempts: 5, baseDelayMs: 0 },
    );
    expect(result).toBe('ok');
    expect(seen).toEqual([1, 2, 3]);
  });

  it('gives up after `attempts` and throws the last error', async () => {
    let calls = 0;
    const errors: StorageError[] = [];
    const err = await withRetry(
      async () => {
        calls++;
        const e = new StorageError('STORAGE_TIMEOUT', `try ${calls}`);
        errors.push(e);
        throw e;
      },
      { attempts: 4, baseDelayMs: 0 },
    ).catch((e: unknown) => e);
    expect(calls).toBe(4);
    expect(err).toBe(errors[3]);
  });

  const notRetried: [string, unknown][] = [
    ['a non-retryable StorageError', new StorageError('STORAGE_INVALID_RANGE', 'range')],
    ['STORAGE_NO_SUCH_UPLOAD', new StorageError('STORAGE_NO_SUCH_UPLOAD', 'gone')],
    ['a plain Error', new Error('bug')],
    ['a thrown string', 'oops'],
  ];
  for (const [label, thrown] of notRetried) {
    it(`does not retry ${label}`, async () => {
      let calls = 0;
      const err = await withRetry(
        async () => {
          calls++;
          throw thrown;
        },
        { attempts: 5, baseDelayMs: 0 },
      ).catch((e: unknown) => e);
      expect(calls).toBe(1);
      expect(err).toBe(thrown);
    });
  }

  it('waits with exponential backoff capped at maxDelayMs, jittered by `random`', async () => {
    const slept: number[] = [];
    const retries: { attempt: number; delayMs: number; code: string }[] = [];
    await withRetry(
      async () => {
        throw unavailable();
      },
      {
        attempts: 7,
        baseDelayMs: 100,
        maxDelayMs: 1000,
        random: () => 0.999999,
        sleep: async (ms) => void slept.push(ms),
        onRetry: ({ attempt, delayMs, error }) => retries.push({ attempt, delayMs, code: error.code }),
      },
    ).catch(() => {});
    expect(slept).toEqual([99, 199, 399, 799, 999, 999]);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(retries.every((r) => r.code === 'STORAGE_UNAVAILABLE')).toBe(true);
  });

  it('full jitter: delays are uniform below the cap', () => {
    expect(backoffDelay(1, 100, 5000, () => 0)).toBe(0);
    expect(backoffDelay(3, 100, 5000, () => 0.5)).toBe(200);
    expect(backoffDelay(30, 100, 5000, () => 0.5)).toBe(2500);
  });

  it('stops when the signal aborts: before an attempt and during a wait', async () => {
    const before = new AbortController();
    before.abort(new Error('stop'));
    let calls = 0;
    await expect(withRetry(async () => void calls++, { attempts: 3, signal: before.signal })).rejects.toThrow('stop');
    expect(calls).toBe(0);

    const during = new AbortController();
    const p = withRetry(
      async () => {
        calls++;
        setTimeout(() => during.abort(new Error('cancelled')), 0);
        throw unavailable();
      },
      { attempts: 3, baseDelayMs: 60_000, maxDelayMs: 60_000, random: () => 0.5, signal: during.signal },
    );
    await expect(p).rejects.toThrow('cancelled');
    expect(calls).toBe(1);
  });

  it('rejects attempts < 1', async () => {
    await expect(withRetry(async () => 1, { attempts: 0 })).rejects.toThrow(RangeError);
  });

  it('with create-only puts, converges through before/after faults (null = already there)', async () => {
    const inner = new MemoryObjectStore();
    const store = new FaultyObjectStore(inner, { seed: 99, failureRate: 0.5, timeoutRate: 0.1, delay: async () => {} });
    for (let i = 0; i < 50; i++) {
      const key = `f/${i}`;
      const body = new Uint8Array([i, i + 1]);
      const info = await withRetry(() => store.put(key, body, { ifAbsent: true }), { attempts: 30, baseDelayMs: 0 });
      // null means an earlier attempt landed: the object must be ours.
      const head = info ?? (await inner.head(key));
      expect(head?.size).toBe(2);
    }
    expect(inner.keys()).toHaveLength(50);
    expect(store.stats.after).toBeGreaterThan(0);
  });
});
