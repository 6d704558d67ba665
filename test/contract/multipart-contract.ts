// The multipart part of the ObjectStore contract: R2's part rules, visibility, abort, complete, resume.
import { describe, expect, it } from 'vitest';
import { MULTIPART_MIN_PART_SIZE } from '../../src/storage/object-store.ts';
import { type ContractSetup, concat, expectBytes, pattern, rejectsWith } from './contract-helpers.ts';

/** Registers the multipart cases; `setup` gives each test a store and its own prefix. */
export function describeMultipartContract(setup: ContractSetup): void {
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
      expect(info).toMatchObject({
        key: p + 'mp',
        size: 2 * MULTIPART_MIN_PART_SIZE + 12345,
        customMetadata: { 'litestream-timestamp': '2024-01-02T03:04:05.006Z' },
      });
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
