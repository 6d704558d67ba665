// The ObjectStore contract: one suite every implementation must pass (memory in Node, R2 in workerd).
import { describe, expect, it } from 'vitest';
import { LIST_METADATA_PAGE_LIMIT, type ByteRange, type ObjectStore } from '../../src/storage/object-store.ts';
import { expectBytes, listAll, pattern, readAll, rejectsWith } from './contract-helpers.ts';
import { describeMultipartContract } from './multipart-contract.ts';

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
        expect(page.objects.map((o) => o.key.slice(p.length))).toEqual([
          'A',
          'a',
          'a-',
          'a/1',
          'a/10',
          'a/2',
          'b',
          'z',
          '~',
          '\uFFFD',
          '\u{1F600}',
        ]);
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
