// R2ObjectStore against local R2 in workerd: the ObjectStore contract, plus R2 behaviours we rely on, verified.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { StorageError } from '../../src/storage/object-store.ts';
import { R2ObjectStore, mapR2Error, r2ErrorCode } from '../../src/storage/r2-store.ts';
import { describeObjectStoreContract } from '../contract/object-store-contract.ts';

describeObjectStoreContract('R2ObjectStore (local R2)', () => new R2ObjectStore(env.LTX_BUCKET));

function prefix(): string {
  return `r2-store/${crypto.randomUUID()}/`;
}

describe('local R2 behaviours R2ObjectStore relies on', () => {
  it('onlyIf {etagDoesNotMatch: "*"} is create-only on the raw binding (not reversed)', async () => {
    const key = prefix() + 'c';
    const first = await env.LTX_BUCKET.put(key, new Uint8Array([1, 2, 3]), { onlyIf: { etagDoesNotMatch: '*' } });
    expect(first).not.toBeNull();
    const second = await env.LTX_BUCKET.put(key, new Uint8Array([9]), { onlyIf: { etagDoesNotMatch: '*' } });
    expect(second).toBeNull();
    const got = await env.LTX_BUCKET.get(key);
    expect(new Uint8Array(await got!.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
    expect(got!.etag).toBe(first!.etag);
  });

  it('R2ObjectStore.put(ifAbsent) returns null the second time and keeps the first body', async () => {
    const store = new R2ObjectStore(env.LTX_BUCKET);
    const key = prefix() + 'c';
    expect(await store.put(key, new Uint8Array([1]), { ifAbsent: true })).not.toBeNull();
    expect(await store.put(key, new Uint8Array([2]), { ifAbsent: true })).toBeNull();
    expect(await (await store.get(key))!.bytes()).toEqual(new Uint8Array([1]));
  });

  it('the binding reports errors as plain Errors with the R2 code at the end of the message', async () => {
    const key = prefix() + 'r';
    await env.LTX_BUCKET.put(key, new Uint8Array(3));
    const rangeErr = await env.LTX_BUCKET.get(key, { range: { offset: 3 } }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(rangeErr).toBeInstanceOf(Error);
    expect(r2ErrorCode(rangeErr)).toBe(10039);
    expect(mapR2Error(rangeErr, 'get', key).code).toBe('STORAGE_INVALID_RANGE');
  });

  it('maps R2 codes to typed, retryable-or-not StorageErrors', () => {
    const cases: [string, string, boolean][] = [
      ['put: We encountered an internal error. Please try again. (10001)', 'STORAGE_UNAVAILABLE', true],
      ['put: Reduce your concurrent request rate for the same object. (10058)', 'STORAGE_RATE_LIMITED', true],
      ['get: The requested range is not satisfiable (10039)', 'STORAGE_INVALID_RANGE', false],
      ['completeMultipartUpload: There was a problem with the multipart upload. (10048)', 'STORAGE_MULTIPART_INVALID', false],
      ['uploadPart: The specified multipart upload does not exist. (10024)', 'STORAGE_NO_SUCH_UPLOAD', false],
      ['Network connection lost.', 'STORAGE_UNAVAILABLE', true],
    ];
    for (const [message, code, retryable] of cases) {
      const mapped = mapR2Error(new Error(message), 'op');
      expect(mapped).toBeInstanceOf(StorageError);
      expect([mapped.code, mapped.retryable]).toEqual([code, retryable]);
    }
    expect(mapR2Error(new TypeError('Part number must be between 1 and 10000'), 'uploadPart').code).toBe('STORAGE_INVALID_ARGUMENT');
  });

  it('enforces the 5 MiB minimum part size locally (no test-size shortcut)', async () => {
    const up = await env.LTX_BUCKET.createMultipartUpload(prefix() + 'mp');
    const a = await up.uploadPart(1, new Uint8Array(1024));
    const b = await up.uploadPart(2, new Uint8Array(10));
    await expect(up.complete([a, b])).rejects.toThrow(/\(10011\)$/);
    await up.abort();
  });

  it('caps list pages at 100 objects when customMetadata is included', async () => {
    const p = prefix();
    await Promise.all(Array.from({ length: 120 }, (_, i) => env.LTX_BUCKET.put(`${p}${String(i).padStart(3, '0')}`, new Uint8Array(1))));
    const withMeta = await env.LTX_BUCKET.list({ prefix: p, include: ['customMetadata'] });
    expect([withMeta.objects.length, withMeta.truncated]).toEqual([100, true]);
    const bare = await env.LTX_BUCKET.list({ prefix: p });
    expect([bare.objects.length, bare.truncated]).toEqual([120, false]);
  });
});
