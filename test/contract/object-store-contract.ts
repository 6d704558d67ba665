// The ObjectStore contract: one suite every implementation must pass (memory in Node, R2 in workerd).
import { describe, expect, it } from 'vitest';
import {
  LIST_METADATA_PAGE_LIMIT,
  MULTIPART_MIN_PART_SIZE,
  StorageError,
  type ByteRange,
  type ObjectStore,
  type StorageErrorCode,
} from '../../src/storage/object-store.ts';

const MiB = 1024 * 1024;

/** `n` deterministic bytes that differ per `seed`. */
function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 17 + (i >>> 8)) & 0xff;
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Byte equality without a deep diff of megabytes: reports length and the first differing index. */
function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
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

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return concat(...chunks);
}

/** Asserts that `p` rejects with a StorageError of `code`. */
async function rejectsWith(p: Promise<unknown>, code: StorageErrorCode): Promise<StorageError> {
  const err = await p.then(
    () => expect.unreachable(`expected ${code}`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StorageError);
  expect((err as StorageError).code).toBe(code);
  return err as StorageError;
}

async function listAll(store: ObjectStore, prefix: string, limit?: number): Promise<{ keys: string[]; pages: number }> {
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

/**
 * Registers the ObjectStore contract for one implementation. `makeStore` may return a shared
 * store: every test writes under its own random prefix.
 */
export function describeObjectStoreContract(name: string, makeStore: () => Promise<ObjectStore> | ObjectStore): void {
  async function setup(): Promise<{ store: ObjectStore; p: string }> {
    return { store: await makeStore(), p: `contract/${crypto.randomUUID()}/` };
  }

  describe(`ObjectStore contract: ${name}`, () => {
    describe('put, get, head, delete', () => {
      it('put returns the info that get and head see', async () => {
        const { store, p } = await setup();
        const data = pattern(1000);
        const info = await store.put(p + 'a', data, { customMetadata: { 'litestream-timestamp': '2024-01-02T03:04:05.006Z' } });
        expect(info).not.toBeNull();
        expect(info!.key).toBe(p + 'a');
        expect(info!.size).toBe(1000);
        expect(info!.etag).toBeTypeOf('string');
        expect(info!.uploaded).toBeInstanceOf(Date);
        expect(info!.customMetadata).toEqual({ 'litestream-timestamp': '2024-01-02T03:04:05.006Z' });
        const head = await store.head(p + 'a');
        expect(head).toMatchObject({ key: p + 'a', size: 1000, etag: info!.etag, customMetadata: info!.customMetadata });
        expect(head!.uploaded.getTime()).toBe(info!.uploaded.getTime());
        const got = await store.get(p + 'a');
        expect(got).toMatchObject({ key: p + 'a', size: 1000, etag: info!.etag, customMetadata: info!.customMetadata });
        expect(got!.range).toBeUndefined();
        expectBytes(await got!.bytes(), data);
      });

      it('get and head of a missing key are null; deleting missing keys is fine', async () => {
        const { store, p } = await setup();
        expect(await store.get(p + 'nope')).toBeNull();
        expect(await store.get(p + 'nope', { offset: 5 })).toBeNull();
        expect(await store.head(p + 'nope')).toBeNull();
        await store.delete(p + 'nope');
        await store.delete([p + 'nope', p + 'nope2']);
        await store.delete([]);
      });

      it('put replaces; the etag follows the content; metadata is replaced too', async () => {
        const { store, p } = await setup();
        const a = await store.put(p + 'k', pattern(10, 1), { customMetadata: { x: '1' } });
        const b = await store.put(p + 'k', pattern(20, 2));
        expect(b!.etag).not.toBe(a!.etag);
        const got = await store.get(p + 'k');
        expect(got!.size).toBe(20);
        expect(got!.customMetadata).toEqual({});
        expectBytes(await got!.bytes(), pattern(20, 2));
      });

      it('keeps its own copy of the bytes', async () => {
        const { store, p } = await setup();
        const data = pattern(16);
        await store.put(p + 'k', data);
        data.fill(0);
        const got = await (await store.get(p + 'k'))!.bytes();
        expectBytes(got, pattern(16));
        got.fill(9);
        expectBytes(await (await store.get(p + 'k'))!.bytes(), pattern(16));
      });

      it('stores empty objects', async () => {
        const { store, p } = await setup();
        expect((await store.put(p + 'e', new Uint8Array(0)))!.size).toBe(0);
        const got = await store.get(p + 'e');
        expect(got!.size).toBe(0);
        expectBytes(await readAll(got!.body), new Uint8Array(0));
      });

      it('body streams the same bytes as bytes()', async () => {
        const { store, p } = await setup();
        const data = pattern(300 * 1024 + 7);
        await store.put(p + 'big', data);
        expectBytes(await readAll((await store.get(p + 'big'))!.body), data);
        expectBytes(await readAll((await store.get(p + 'big', { offset: 100_000, length: 150_000 }))!.body), data.slice(100_000, 250_000));
      });

      it('deletes one key, several keys, and more than 1000 keys at once', async () => {
        const { store, p } = await setup();
        const keys = Array.from({ length: 1003 }, (_, i) => `${p}d/${String(i).padStart(4, '0')}`);
        await Promise.all(keys.map((k) => store.put(k, new Uint8Array([1]))));
        await store.delete(keys[0]);
        expect(await store.head(keys[0])).toBeNull();
        await store.delete([keys[1], keys[2]]);
        expect((await listAll(store, p)).keys).toEqual(keys.slice(3));
        await store.delete(keys.slice(3));
        expect((await listAll(store, p)).keys).toEqual([]);
      });

      it('rejects empty keys, keys over 1024 bytes and metadata over 8 KiB', async () => {
        const { store, p } = await setup();
        await rejectsWith(store.put('', new Uint8Array(1)), 'STORAGE_INVALID_ARGUMENT');
        await rejectsWith(store.put('k'.repeat(1025), new Uint8Array(1)), 'STORAGE_INVALID_ARGUMENT');
        await rejectsWith(store.get('é'.repeat(513)), 'STORAGE_INVALID_ARGUMENT');
        expect(await store.put(p + 'k'.repeat(1024 - p.length), new Uint8Array(1))).not.toBeNull();
        await rejectsWith(store.put(p + 'm', new Uint8Array(1), { customMetadata: { a: 'x'.repeat(9000) } }), 'STORAGE_INVALID_ARGUMENT');
        expect(await store.put(p + 'm', new Uint8Array(1), { customMetadata: { a: 'x'.repeat(8000) } })).not.toBeNull();
      });
    });

    describe('ifAbsent (create-only)', () => {
      it('writes once; a second put returns null and leaves the first body and metadata', async () => {
        const { store, p } = await setup();
        const first = await store.put(p + 'c', pattern(8, 1), { ifAbsent: true, customMetadata: { n: '1' } });
        expect(first).toMatchObject({ key: p + 'c', size: 8 });
        expect(await store.put(p + 'c', pattern(9, 2), { ifAbsent: true, customMetadata: { n: '2' } })).toBeNull();
        const got = await store.get(p + 'c');
        expect(got).toMatchObject({ size: 8, etag: first!.etag, customMetadata: { n: '1' } });
        expectBytes(await got!.bytes(), pattern(8, 1));
      });

      it('also refuses identical bytes, and creates again after delete', async () => {
        const { store, p } = await setup();
        await store.put(p + 'c', pattern(8));
        expect(await store.put(p + 'c', pattern(8), { ifAbsent: true })).toBeNull();
        await store.delete(p + 'c');
        expect(await store.put(p + 'c', pattern(5, 3), { ifAbsent: true })).toMatchObject({ size: 5 });
        expectBytes(await (await store.get(p + 'c'))!.bytes(), pattern(5, 3));
      });
    });

    describe('ranges', () => {
      const data = pattern(100);
      const cases: { name: string; range: ByteRange; offset: number; length: number }[] = [
        { name: 'offset', range: { offset: 10 }, offset: 10, length: 90 },
        { name: 'offset 0', range: { offset: 0 }, offset: 0, length: 100 },
        { name: 'offset + length', range: { offset: 10, length: 5 }, offset: 10, length: 5 },
        { name: 'last byte', range: { offset: 99, length: 1 }, offset: 99, length: 1 },
        { name: 'length past the end is clipped', range: { offset: 90, length: 50 }, offset: 90, length: 10 },
        { name: 'suffix', range: { suffix: 16 }, offset: 84, length: 16 },
        { name: 'suffix of all', range: { suffix: 100 }, offset: 0, length: 100 },
        { name: 'suffix past the start is the whole object', range: { suffix: 1000 }, offset: 0, length: 100 },
      ];
      for (const c of cases) {
        it(`reads ${c.name}`, async () => {
          const { store, p } = await setup();
          await store.put(p + 'r', data);
          const got = await store.get(p + 'r', c.range);
          expect(got!.size).toBe(100);
          expect(got!.range).toEqual({ offset: c.offset, length: c.length });
          expectBytes(await got!.bytes(), data.slice(c.offset, c.offset + c.length));
        });
      }

      it('fails with STORAGE_INVALID_RANGE when the range starts at or past the end', async () => {
        const { store, p } = await setup();
        await store.put(p + 'r', data);
        await rejectsWith(store.get(p + 'r', { offset: 100 }), 'STORAGE_INVALID_RANGE');
        await rejectsWith(store.get(p + 'r', { offset: 100, length: 1 }), 'STORAGE_INVALID_RANGE');
        await rejectsWith(store.get(p + 'r', { offset: 101 }), 'STORAGE_INVALID_RANGE');
        await rejectsWith(store.get(p + 'r', { offset: 5000, length: 10 }), 'STORAGE_INVALID_RANGE');
        await store.put(p + 'empty', new Uint8Array(0));
        await rejectsWith(store.get(p + 'empty', { offset: 0 }), 'STORAGE_INVALID_RANGE');
        await rejectsWith(store.get(p + 'empty', { suffix: 1 }), 'STORAGE_INVALID_RANGE');
      });

      const malformed: [string, ByteRange][] = [
        ['negative offset', { offset: -1 }],
        ['fractional offset', { offset: 1.5 }],
        ['zero length', { offset: 0, length: 0 }],
        ['negative length', { offset: 0, length: -3 }],
        ['zero suffix', { suffix: 0 }],
        ['NaN suffix', { suffix: Number.NaN }],
      ];
      for (const [label, range] of malformed) {
        it(`rejects a malformed range: ${label}`, async () => {
          const { store, p } = await setup();
          await store.put(p + 'r', data);
          await rejectsWith(store.get(p + 'r', range), 'STORAGE_INVALID_ARGUMENT');
        });
      }
    });

    describe('list', () => {
      it('lists in code point (UTF-8 byte) order under a raw prefix, with metadata', async () => {
        const { store, p } = await setup();
        const names = ['b', 'a/2', 'a/10', 'A', 'a-', 'a', '~', 'z', '\uFFFD', '\u{1F600}', 'a/1'];
        for (const n of names) await store.put(p + n, new Uint8Array([1]), { customMetadata: { n } });
        await store.put(p.slice(0, -1) + 'x/outside', new Uint8Array(1));
        const page = await store.list({ prefix: p });
        expect(page.truncated).toBe(false);
        expect(page.objects.map((o) => o.key.slice(p.length))).toEqual(['A', 'a', 'a-', 'a/1', 'a/10', 'a/2', 'b', 'z', '~', '\uFFFD', '\u{1F600}']);
        expect(page.objects.every((o) => o.customMetadata.n === o.key.slice(p.length) && o.size === 1)).toBe(true);
        expect((await store.list({ prefix: p + 'a/' })).objects.map((o) => o.key.slice(p.length))).toEqual(['a/1', 'a/10', 'a/2']);
        expect((await store.list({ prefix: p + 'nothing/' })).objects).toEqual([]);
        const bare = await store.list({ prefix: p + 'a/', includeMetadata: false });
        expect(bare.objects.map((o) => o.customMetadata)).toEqual([{}, {}, {}]);
      });

      it('starts after startAfter', async () => {
        const { store, p } = await setup();
        for (const n of ['1', '2', '3', '4']) await store.put(p + n, new Uint8Array(1));
        expect((await store.list({ prefix: p, startAfter: p + '2' })).objects.map((o) => o.key)).toEqual([p + '3', p + '4']);
        expect((await store.list({ prefix: p, startAfter: p + '25' })).objects.map((o) => o.key)).toEqual([p + '3', p + '4']);
        expect((await store.list({ prefix: p, startAfter: p })).objects).toHaveLength(4);
      });

      it('paginates with limit and cursor: every key once, in order', async () => {
        const { store, p } = await setup();
        const keys = Array.from({ length: 23 }, (_, i) => `${p}${String(i).padStart(3, '0')}`);
        await Promise.all(keys.map((k) => store.put(k, new Uint8Array(1))));
        const { keys: seen, pages } = await listAll(store, p, 5);
        expect(seen).toEqual(keys);
        expect(pages).toBeGreaterThanOrEqual(5);
        const first = await store.list({ prefix: p, limit: 5 });
        expect(first.truncated).toBe(true);
        expect(first.objects.map((o) => o.key)).toEqual(keys.slice(0, 5));
        const later = await store.list({ prefix: p, limit: 5, cursor: first.cursor, startAfter: keys[12] });
        expect(later.objects[0].key).toBe(keys[13]);
      });

      it('pages hold at most 100 objects with metadata and up to 1000 without; follow truncated', async () => {
        const { store, p } = await setup();
        const keys = Array.from({ length: 250 }, (_, i) => `${p}${String(i).padStart(4, '0')}`);
        await Promise.all(keys.map((k) => store.put(k, new Uint8Array(1))));
        const page = await store.list({ prefix: p });
        expect(page.objects.length).toBeLessThanOrEqual(LIST_METADATA_PAGE_LIMIT);
        expect(page.truncated).toBe(true);
        const bare = await store.list({ prefix: p, includeMetadata: false });
        expect(bare.objects.map((o) => o.key)).toEqual(keys);
        expect(bare.truncated).toBe(false);
        expect((await listAll(store, p)).keys).toEqual(keys);
      });

      it('rejects limits outside 1..1000', async () => {
        const { store, p } = await setup();
        await rejectsWith(store.list({ prefix: p, limit: 0 }), 'STORAGE_INVALID_ARGUMENT');
        await rejectsWith(store.list({ prefix: p, limit: 1001 }), 'STORAGE_INVALID_ARGUMENT');
        await rejectsWith(store.list({ prefix: p, limit: 2.5 }), 'STORAGE_INVALID_ARGUMENT');
      });
    });

    describeMultipartContract(setup);
  });
}

function describeMultipartContract(setup: () => Promise<{ store: ObjectStore; p: string }>): void {
  const part = (n: number, seed: number): Uint8Array => pattern(n, seed);

  describe('multipart', () => {
    it('equal parts then a smaller last part: one object, metadata from create, ranges across parts', async () => {
      const { store, p } = await setup();
      const up = await store.createMultipart(p + 'mp', { customMetadata: { 'litestream-timestamp': '2024-01-02T03:04:05.006Z' } });
      expect(up.key).toBe(p + 'mp');
      expect(up.uploadId).toBeTypeOf('string');
      const a = part(MULTIPART_MIN_PART_SIZE, 1);
      const b = part(MULTIPART_MIN_PART_SIZE, 2);
      const c = part(12345, 3);
      // Parts may be uploaded in any order and concurrently.
      const [p3, p1, p2] = await Promise.all([up.uploadPart(3, c), up.uploadPart(1, a), up.uploadPart(2, b)]);
      expect(p1).toMatchObject({ partNumber: 1 });
      const info = await up.complete([p1, p2, p3]);
      expect(info).toMatchObject({ key: p + 'mp', size: 2 * MULTIPART_MIN_PART_SIZE + 12345, customMetadata: { 'litestream-timestamp': '2024-01-02T03:04:05.006Z' } });
      const head = await store.head(p + 'mp');
      expect(head).toMatchObject({ size: info.size, etag: info.etag, customMetadata: info.customMetadata });
      const all = await (await store.get(p + 'mp'))!.bytes();
      expectBytes(all, concat(a, b, c));
      const across = await store.get(p + 'mp', { offset: MULTIPART_MIN_PART_SIZE - 3, length: 6 });
      expectBytes(await across!.bytes(), concat(a.slice(-3), b.slice(0, 3)));
      expectBytes(await (await store.get(p + 'mp', { suffix: 100 }))!.bytes(), c.slice(-100));
      expect((await store.list({ prefix: p })).objects.map((o) => o.key)).toEqual([p + 'mp']);
    });

    it('a single part may have any size; part numbers may skip; a last part may equal the others or be empty', async () => {
      const { store, p } = await setup();
      const one = await store.createMultipart(p + 'one');
      expect((await one.complete([await one.uploadPart(7, part(10, 1))])).size).toBe(10);
      expectBytes(await (await store.get(p + 'one'))!.bytes(), part(10, 1));
      const gap = await store.createMultipart(p + 'gap');
      const g1 = await gap.uploadPart(1, part(MULTIPART_MIN_PART_SIZE, 1));
      const g5 = await gap.uploadPart(5, part(MULTIPART_MIN_PART_SIZE, 2));
      const g9 = await gap.uploadPart(9, new Uint8Array(0));
      expect((await gap.complete([g1, g5, g9])).size).toBe(2 * MULTIPART_MIN_PART_SIZE);
    });

    it('enforces R2 part sizes: parts before the last ≥ 5 MiB and equal, the last no larger; the upload stays open', async () => {
      const { store, p } = await setup();
      const up = await store.createMultipart(p + 'mp');
      const small = await up.uploadPart(1, part(MULTIPART_MIN_PART_SIZE - 1, 1));
      const tail = await up.uploadPart(2, part(10, 2));
      await rejectsWith(up.complete([small, tail]), 'STORAGE_MULTIPART_INVALID');
      const big = await up.uploadPart(1, part(MULTIPART_MIN_PART_SIZE + 1, 1));
      const min = await up.uploadPart(2, part(MULTIPART_MIN_PART_SIZE, 2));
      const last = await up.uploadPart(3, part(10, 3));
      await rejectsWith(up.complete([big, min, last]), 'STORAGE_MULTIPART_INVALID');
      const exact = await up.uploadPart(1, part(MULTIPART_MIN_PART_SIZE, 1));
      const larger = await up.uploadPart(2, part(MULTIPART_MIN_PART_SIZE + 1, 2));
      await rejectsWith(up.complete([exact, larger]), 'STORAGE_MULTIPART_INVALID');
      expect(await store.head(p + 'mp')).toBeNull();
      // Still open: a valid list completes it (part 2 was replaced, so upload it again).
      const second = await up.uploadPart(2, part(MULTIPART_MIN_PART_SIZE, 2));
      await rejectsWith(up.complete([exact, min, last]), 'STORAGE_MULTIPART_INVALID');
      expect((await up.complete([exact, second, last])).size).toBe(2 * MULTIPART_MIN_PART_SIZE + 10);
    });

    it('rejects bad part lists and part numbers', async () => {
      const { store, p } = await setup();
      const up = await store.createMultipart(p + 'mp');
      const first = await up.uploadPart(1, part(MULTIPART_MIN_PART_SIZE, 1));
      const second = await up.uploadPart(2, part(10, 2));
      await rejectsWith(up.complete([]), 'STORAGE_MULTIPART_INVALID');
      await rejectsWith(up.complete([second, first]), 'STORAGE_MULTIPART_INVALID');
      await rejectsWith(up.complete([first, first]), 'STORAGE_MULTIPART_INVALID');
      await rejectsWith(up.complete([first, { partNumber: 2, etag: 'not-an-etag' }]), 'STORAGE_MULTIPART_INVALID');
      await rejectsWith(up.complete([first, { partNumber: 3, etag: second.etag }]), 'STORAGE_MULTIPART_INVALID');
      // Uploading a number again replaces the part: the old etag no longer completes.
      const again = await up.uploadPart(2, part(11, 4));
      await rejectsWith(up.complete([first, second]), 'STORAGE_MULTIPART_INVALID');
      await rejectsWith(up.uploadPart(0, part(1, 1)), 'STORAGE_INVALID_ARGUMENT');
      await rejectsWith(up.uploadPart(10_001, part(1, 1)), 'STORAGE_INVALID_ARGUMENT');
      expect(await store.head(p + 'mp')).toBeNull();
      expect((await up.complete([first, again])).size).toBe(MULTIPART_MIN_PART_SIZE + 11);
    });

    it('shows nothing before complete: get, head and list miss the upload', async () => {
      const { store, p } = await setup();
      const up = await store.createMultipart(p + 'mp');
      await up.uploadPart(1, part(100, 1));
      expect(await store.get(p + 'mp')).toBeNull();
      expect(await store.head(p + 'mp')).toBeNull();
      expect((await store.list({ prefix: p })).objects).toEqual([]);
      await up.abort();
    });

    it('abort leaves nothing visible, is idempotent, and complete after abort fails with STORAGE_NO_SUCH_UPLOAD', async () => {
      const { store, p } = await setup();
      const up = await store.createMultipart(p + 'mp');
      const p1 = await up.uploadPart(1, part(100, 1));
      await up.abort();
      await up.abort();
      expect(await store.head(p + 'mp')).toBeNull();
      expect((await store.list({ prefix: p })).objects).toEqual([]);
      await rejectsWith(up.complete([p1]), 'STORAGE_NO_SUCH_UPLOAD');
      await rejectsWith(up.uploadPart(2, part(1, 1)), 'STORAGE_NO_SUCH_UPLOAD');
    });

    it('a second complete fails with STORAGE_NO_SUCH_UPLOAD and abort after complete keeps the object', async () => {
      const { store, p } = await setup();
      const up = await store.createMultipart(p + 'mp');
      const p1 = await up.uploadPart(1, part(100, 1));
      const info = await up.complete([p1]);
      await rejectsWith(up.complete([p1]), 'STORAGE_NO_SUCH_UPLOAD');
      await up.abort();
      expect(await store.head(p + 'mp')).toMatchObject({ size: 100, etag: info.etag });
    });

    it('complete replaces an existing object (multipart has no create-only)', async () => {
      const { store, p } = await setup();
      await store.put(p + 'mp', part(5, 1));
      const up = await store.createMultipart(p + 'mp');
      await up.complete([await up.uploadPart(1, part(7, 2))]);
      expectBytes(await (await store.get(p + 'mp'))!.bytes(), part(7, 2));
    });

    it('resumeMultipart continues an upload by id, and can abort it', async () => {
      const { store, p } = await setup();
      const up = await store.createMultipart(p + 'mp', { customMetadata: { k: 'v' } });
      const p1 = await up.uploadPart(1, part(MULTIPART_MIN_PART_SIZE, 1));
      const resumed = store.resumeMultipart(p + 'mp', up.uploadId);
      expect(resumed).toMatchObject({ key: p + 'mp', uploadId: up.uploadId });
      const p2 = await resumed.uploadPart(2, part(3, 2));
      expect(await resumed.complete([p1, p2])).toMatchObject({ size: MULTIPART_MIN_PART_SIZE + 3, customMetadata: { k: 'v' } });
      const other = await store.createMultipart(p + 'other');
      await other.uploadPart(1, part(3, 3));
      await store.resumeMultipart(p + 'other', other.uploadId).abort();
      await rejectsWith(other.complete([{ partNumber: 1, etag: 'x' }]), 'STORAGE_NO_SUCH_UPLOAD');
      expect(await store.head(p + 'other')).toBeNull();
    });
  });
}
