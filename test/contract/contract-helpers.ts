// Helpers shared by the ObjectStore contract suites: deterministic bytes, fast byte equality, typed rejections, listing.
import { expect } from 'vitest';
import { StorageError, type ObjectStore, type StorageErrorCode } from '../../src/storage/object-store.ts';

/** What each contract test gets: a store and a key prefix of its own. */
export type ContractSetup = () => Promise<{ store: ObjectStore; p: string }>;

/** `n` deterministic bytes that differ per `seed`. */
export function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 17 + (i >>> 8)) & 0xff;
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Byte equality without a deep diff of megabytes: reports length and the first differing index. */
export function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  let diff = -1;
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) {
      diff = i;
      break;
    }
  }
  expect(diff, 'first differing byte').toBe(-1);
}

export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return concat(...chunks);
}

/** Asserts that `p` rejects with a StorageError of `code`. */
export async function rejectsWith(p: Promise<unknown>, code: StorageErrorCode): Promise<StorageError> {
  const err = await p.then(
    () => expect.unreachable(`expected ${code}`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StorageError);
  expect((err as StorageError).code).toBe(code);
  return err as StorageError;
}

export async function listAll(store: ObjectStore, prefix: string, limit?: number): Promise<{ keys: string[]; pages: number }> {
  const keys: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  for (;;) {
    const page = await store.list({ prefix, limit, cursor });
    pages++;
    keys.push(...page.objects.map((o) => o.key));
    if (!page.truncated) return { keys, pages };
    expect(page.cursor).toBeTypeOf('string');
    cursor = page.cursor;
  }
}
