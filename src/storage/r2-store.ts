// R2ObjectStore: the ObjectStore port over an R2Bucket binding; R2 failures become StorageErrors.
import {
  StorageError,
  type ByteRange,
  type ListOptions,
  type ListResult,
  type MultipartOptions,
  type MultipartUpload,
  type ObjectBody,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  type StorageErrorCode,
  type UploadedPart,
} from './object-store.ts';
import { checkKey, checkListLimit, checkMetadata, checkPartList, checkPartNumber, checkRange, resolveRange } from './store-rules.ts';

/** R2 deletes at most this many keys per call. */
const R2_DELETE_BATCH = 1000;

/**
 * R2 error codes (the "(10058)" at the end of the message, developers.cloudflare.com/r2/api/error-codes)
 * → our codes. Anything unlisted, and errors without a code (network lost), is STORAGE_UNAVAILABLE.
 */
const R2_CODES: Record<number, StorageErrorCode> = {
  10001: 'STORAGE_UNAVAILABLE', // InternalError: "Please try again"
  10043: 'STORAGE_UNAVAILABLE', // ServiceUnavailable
  10054: 'STORAGE_UNAVAILABLE', // ClientDisconnect
  10058: 'STORAGE_RATE_LIMITED', // TooManyRequests (concurrent writes to one key)
  10002: 'STORAGE_MISCONFIGURED', // Unauthorized
  10003: 'STORAGE_MISCONFIGURED', // AccessDenied
  10006: 'STORAGE_MISCONFIGURED', // NoSuchBucket
  10042: 'STORAGE_MISCONFIGURED', // NotEntitled
  10007: 'STORAGE_NOT_FOUND', // NoSuchKey
  10011: 'STORAGE_MULTIPART_INVALID', // EntityTooSmall: a part before the last under 5 MiB
  10025: 'STORAGE_MULTIPART_INVALID', // InvalidPart: unknown part or etag
  10048: 'STORAGE_MULTIPART_INVALID', // BadUpload: parts of different sizes, last part larger
  10012: 'STORAGE_INVALID_ARGUMENT', // MetadataTooLarge
  10020: 'STORAGE_INVALID_ARGUMENT', // InvalidObjectName
  10022: 'STORAGE_INVALID_ARGUMENT', // InvalidMaxKeys
  10029: 'STORAGE_INVALID_ARGUMENT', // InvalidArgument
  10037: 'STORAGE_INVALID_ARGUMENT', // BadDigest
  100100: 'STORAGE_INVALID_ARGUMENT', // EntityTooLarge
  10024: 'STORAGE_NO_SUCH_UPLOAD', // NoSuchUpload
  10031: 'STORAGE_PRECONDITION', // PreconditionFailed
  10039: 'STORAGE_INVALID_RANGE', // InvalidRange
};

/** The numeric R2 code of an error thrown by the binding, or undefined. */
export function r2ErrorCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'number') return code;
  const m = /\((\d+)\)\s*$/.exec(String((err as { message?: unknown }).message ?? ''));
  return m === null ? undefined : Number(m[1]);
}

/** Maps anything the R2 binding throws to a StorageError (kept as `cause`). */
export function mapR2Error(err: unknown, op: string, key?: string): StorageError {
  if (err instanceof StorageError) return err;
  const r2 = r2ErrorCode(err);
  const message = `${op}: ${err instanceof Error ? err.message : String(err)}`;
  let code: StorageErrorCode = r2 === undefined ? 'STORAGE_UNAVAILABLE' : (R2_CODES[r2] ?? 'STORAGE_UNAVAILABLE');
  // The runtime checks arguments itself (TypeError / RangeError) before any request is made.
  if (r2 === undefined && (err instanceof TypeError || err instanceof RangeError)) code = 'STORAGE_INVALID_ARGUMENT';
  return new StorageError(code, message, { op, key, cause: err });
}

async function call<T>(op: string, key: string | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw mapR2Error(err, op, key);
  }
}

/** The ObjectStore port over an R2 bucket binding (`env.LTX_BUCKET`). */
export class R2ObjectStore implements ObjectStore {
  readonly #bucket: R2Bucket;

  constructor(bucket: R2Bucket) {
    this.#bucket = bucket;
  }

  async put(key: string, body: Uint8Array, opts: PutOptions = {}): Promise<ObjectInfo | null> {
    checkKey('put', key);
    checkMetadata('put', key, opts.customMetadata);
    const options: R2PutOptions = {};
    if (opts.customMetadata !== undefined) options.customMetadata = opts.customMetadata;
    // If-None-Match: * — write only when no object exists (verified in test/workers/r2-store.test.ts).
    if (opts.ifAbsent) options.onlyIf = { etagDoesNotMatch: '*' };
    const obj = await call('put', key, () => this.#bucket.put(key, body, options));
    return obj === null ? null : toInfo(obj);
  }

  async get(key: string, range?: ByteRange): Promise<ObjectBody | null> {
    checkKey('get', key);
    checkRange('get', key, range);
    let obj: R2ObjectBody | null;
    try {
      obj = await this.#bucket.get(key, range === undefined ? undefined : { range });
    } catch (err) {
      const mapped = mapR2Error(err, 'get', key);
      // Local R2 (miniflare) answers {offset: size, length} with "Unspecified error (0)" instead of
      // InvalidRange: look at the size once so the caller sees the same error as in production.
      if (range !== undefined && 'offset' in range && r2ErrorCode(err) === 0) {
        const info = await this.head(key);
        if (info !== null && range.offset >= info.size) resolveRange('get', key, range, info.size);
      }
      throw mapped;
    }
    if (obj === null) return null;
    return toBody(obj, range === undefined ? undefined : resolveRange('get', key, range, obj.size));
  }

  async head(key: string): Promise<ObjectInfo | null> {
    checkKey('head', key);
    const obj = await call('head', key, () => this.#bucket.head(key));
    return obj === null ? null : toInfo(obj);
  }

  async delete(keys: string | string[]): Promise<void> {
    const list = typeof keys === 'string' ? [keys] : keys;
    for (const key of list) checkKey('delete', key);
    for (let i = 0; i < list.length; i += R2_DELETE_BATCH) {
      const batch = list.slice(i, i + R2_DELETE_BATCH);
      await call('delete', batch.length === 1 ? batch[0] : undefined, () => this.#bucket.delete(batch));
    }
  }

  async list(opts: ListOptions): Promise<ListResult> {
    const limit = checkListLimit(opts.limit);
    const options: R2ListOptions = { prefix: opts.prefix, limit };
    if (opts.includeMetadata ?? true) options.include = ['customMetadata'];
    if (opts.startAfter !== undefined) options.startAfter = opts.startAfter;
    if (opts.cursor !== undefined) options.cursor = opts.cursor;
    const res = await call('list', undefined, () => this.#bucket.list(options));
    const objects = res.objects.map(toInfo);
    return res.truncated ? { objects, truncated: true, cursor: res.cursor } : { objects, truncated: false };
  }

  async createMultipart(key: string, opts: MultipartOptions = {}): Promise<MultipartUpload> {
    checkKey('createMultipart', key);
    checkMetadata('createMultipart', key, opts.customMetadata);
    const options: R2MultipartOptions = {};
    if (opts.customMetadata !== undefined) options.customMetadata = opts.customMetadata;
    const upload = await call('createMultipart', key, () => this.#bucket.createMultipartUpload(key, options));
    return wrapUpload(upload);
  }

  resumeMultipart(key: string, uploadId: string): MultipartUpload {
    checkKey('resumeMultipart', key);
    try {
      return wrapUpload(this.#bucket.resumeMultipartUpload(key, uploadId));
    } catch (err) {
      throw mapR2Error(err, 'resumeMultipart', key);
    }
  }
}

function wrapUpload(upload: R2MultipartUpload): MultipartUpload {
  const key = upload.key;
  return {
    key,
    uploadId: upload.uploadId,
    async uploadPart(partNumber: number, body: Uint8Array): Promise<UploadedPart> {
      checkPartNumber(key, partNumber);
      const part = await call('uploadPart', key, () => upload.uploadPart(partNumber, body));
      return { partNumber: part.partNumber, etag: part.etag };
    },
    async complete(parts: UploadedPart[]): Promise<ObjectInfo> {
      // Checked here too: local R2 completes an empty list and answers duplicates with a retryable 10001.
      checkPartList(key, parts);
      return toInfo(await call('complete', key, () => upload.complete(parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })))));
    },
    abort: () => call('abort', key, () => upload.abort()),
  };
}

function toInfo(obj: R2Object): ObjectInfo {
  return { key: obj.key, size: obj.size, etag: obj.etag, uploaded: obj.uploaded, customMetadata: { ...obj.customMetadata } };
}

function toBody(obj: R2ObjectBody, range: { offset: number; length: number } | undefined): ObjectBody {
  const key = obj.key;
  let stream: ReadableStream<Uint8Array> | undefined;
  const out: ObjectBody = {
    ...toInfo(obj),
    // Wrapped so a failure mid-stream (connection lost) also reaches the reader as a StorageError.
    get body(): ReadableStream<Uint8Array> {
      stream ??= mapStreamErrors(obj.body as ReadableStream<Uint8Array>, key);
      return stream;
    },
    bytes: () => call('get', key, async () => new Uint8Array(await obj.arrayBuffer())),
  };
  if (range !== undefined) out.range = range;
  return out;
}

/** Chunk size object bodies are read in (R2 bodies otherwise arrive 4 KiB at a time). */
export const BODY_CHUNK_BYTES = 64 * 1024;

function mapStreamErrors(src: ReadableStream<Uint8Array>, key: string): ReadableStream<Uint8Array> {
  // A BYOB reader with Workers' readAtLeast fills 64 KiB per read: one JS step per 64 KiB, not per 4 KiB.
  let byob:
    | (ReadableStreamBYOBReader & { readAtLeast?: (min: number, view: Uint8Array) => Promise<ReadableStreamReadResult<Uint8Array>> })
    | undefined;
  try {
    byob = src.getReader({ mode: 'byob' });
  } catch {
    byob = undefined;
  }
  if (byob && typeof byob.readAtLeast !== 'function') {
    byob.releaseLock();
    byob = undefined;
  }
  const reader = byob ? undefined : src.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (byob) {
          const { done, value } = await byob.readAtLeast!(BODY_CHUNK_BYTES, new Uint8Array(BODY_CHUNK_BYTES));
          if (value && value.byteLength > 0) controller.enqueue(value);
          if (done || !value || value.byteLength === 0) controller.close();
          return;
        }
        const { done, value } = await reader!.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (err) {
        controller.error(mapR2Error(err, 'get', key));
      }
    },
    cancel: (reason) => (byob ? byob.cancel(reason) : reader!.cancel(reason)),
  });
}
