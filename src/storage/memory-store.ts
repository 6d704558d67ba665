// MemoryObjectStore: a Map-backed ObjectStore with R2's semantics, deterministic etags and an injectable clock.
import { crc64, formatHex64 } from '../ltx/index.ts';
import {
  LIST_METADATA_PAGE_LIMIT,
  MULTIPART_MIN_PART_SIZE,
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
  type UploadedPart,
} from './object-store.ts';
import {
  checkKey,
  checkListLimit,
  checkMetadata,
  checkPartList,
  checkPartNumber,
  checkPartSizes,
  checkRange,
  compareKeys,
  resolveRange,
} from './store-rules.ts';

export interface MemoryObjectStoreOptions {
  /** Clock for `uploaded`, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /**
   * Minimum size of every multipart part but the last, in bytes. Default 5 MiB as in R2; lower it
   * only for code that takes its part size as a parameter, or tests stop catching what R2 rejects.
   */
  minPartSize?: number;
  /** Largest chunk a `body` stream yields, in bytes. Default 64 KiB. */
  chunkSize?: number;
}

interface StoredObject {
  data: Uint8Array;
  etag: string;
  uploaded: number;
  customMetadata: Record<string, string>;
}

interface Upload {
  key: string;
  customMetadata: Record<string, string>;
  parts: Map<number, { etag: string; data: Uint8Array }>;
  open: boolean;
}

const CURSOR_TAG = 'mem1:';
const utf8 = new TextEncoder();

/** An in-memory ObjectStore for Node tests: same contract as R2ObjectStore (test/contract). */
export class MemoryObjectStore implements ObjectStore {
  readonly #objects = new Map<string, StoredObject>();
  readonly #uploads = new Map<string, Upload>();
  readonly #now: () => number;
  readonly #minPartSize: number;
  readonly #chunkSize: number;
  #sorted: string[] | null = null;
  #seq = 0;

  constructor(opts: MemoryObjectStoreOptions = {}) {
    this.#now = opts.now ?? Date.now;
    this.#minPartSize = opts.minPartSize ?? MULTIPART_MIN_PART_SIZE;
    this.#chunkSize = opts.chunkSize ?? 64 * 1024;
  }

  async put(key: string, body: Uint8Array, opts: PutOptions = {}): Promise<ObjectInfo | null> {
    checkKey('put', key);
    checkMetadata('put', key, opts.customMetadata);
    if (opts.ifAbsent && this.#objects.has(key)) return null;
    const data = body.slice();
    return this.#store(key, { data, etag: formatHex64(crc64(data)), uploaded: this.#now(), customMetadata: { ...opts.customMetadata } });
  }

  async get(key: string, range?: ByteRange): Promise<ObjectBody | null> {
    checkKey('get', key);
    checkRange('get', key, range);
    const obj = this.#objects.get(key);
    if (obj === undefined) return null;
    const info = toInfo(key, obj);
    if (range === undefined) return makeBody(info, undefined, obj.data.slice(), this.#chunkSize);
    const r = resolveRange('get', key, range, obj.data.length);
    return makeBody(info, r, obj.data.slice(r.offset, r.offset + r.length), this.#chunkSize);
  }

  async head(key: string): Promise<ObjectInfo | null> {
    checkKey('head', key);
    const obj = this.#objects.get(key);
    return obj === undefined ? null : toInfo(key, obj);
  }

  async delete(keys: string | string[]): Promise<void> {
    const list = typeof keys === 'string' ? [keys] : keys;
    for (const key of list) checkKey('delete', key);
    for (const key of list) if (this.#objects.delete(key)) this.#sorted = null;
  }

  async list(opts: ListOptions): Promise<ListResult> {
    const limit = checkListLimit(opts.limit);
    let after = opts.startAfter;
    if (opts.cursor !== undefined) {
      if (!opts.cursor.startsWith(CURSOR_TAG)) {
        throw new StorageError('STORAGE_INVALID_ARGUMENT', 'list: unknown cursor', { op: 'list' });
      }
      const fromCursor = opts.cursor.slice(CURSOR_TAG.length);
      if (after === undefined || compareKeys(fromCursor, after) > 0) after = fromCursor;
    }
    const keys = this.#sortedKeys();
    let i = lowerBound(keys, opts.prefix);
    if (after !== undefined) i = Math.max(i, upperBound(keys, after));
    const withMetadata = opts.includeMetadata ?? true;
    const pageSize = withMetadata ? Math.min(limit, LIST_METADATA_PAGE_LIMIT) : limit;
    const objects: ObjectInfo[] = [];
    for (; i < keys.length && keys[i].startsWith(opts.prefix) && objects.length < pageSize; i++) {
      const info = toInfo(keys[i], this.#objects.get(keys[i])!);
      if (!withMetadata) info.customMetadata = {};
      objects.push(info);
    }
    const truncated = i < keys.length && keys[i].startsWith(opts.prefix);
    if (!truncated) return { objects, truncated };
    return { objects, truncated, cursor: CURSOR_TAG + objects[objects.length - 1].key };
  }

  async createMultipart(key: string, opts: MultipartOptions = {}): Promise<MultipartUpload> {
    checkKey('createMultipart', key);
    checkMetadata('createMultipart', key, opts.customMetadata);
    const uploadId = `mem-upload-${++this.#seq}`;
    this.#uploads.set(uploadId, { key, customMetadata: { ...opts.customMetadata }, parts: new Map(), open: true });
    return this.resumeMultipart(key, uploadId);
  }

  resumeMultipart(key: string, uploadId: string): MultipartUpload {
    return {
      key,
      uploadId,
      uploadPart: async (partNumber, body) => this.#uploadPart(key, uploadId, partNumber, body),
      complete: async (parts) => this.#complete(key, uploadId, parts),
      abort: async () => this.#abort(key, uploadId),
    };
  }

  /** Every stored key in list order (test helper). */
  keys(): string[] {
    return [...this.#sortedKeys()];
  }

  /** Uploads neither completed nor aborted (test helper: finds leaked multipart uploads). */
  openUploads(): { key: string; uploadId: string }[] {
    return [...this.#uploads].filter(([, u]) => u.open).map(([uploadId, u]) => ({ key: u.key, uploadId }));
  }

  #openUpload(op: string, key: string, uploadId: string): Upload {
    const u = this.#uploads.get(uploadId);
    if (u === undefined || u.key !== key || !u.open) {
      throw new StorageError('STORAGE_NO_SUCH_UPLOAD', `${op}: no open upload ${uploadId} for this key`, { op, key });
    }
    return u;
  }

  #uploadPart(key: string, uploadId: string, partNumber: number, body: Uint8Array): UploadedPart {
    checkPartNumber(key, partNumber);
    const u = this.#openUpload('uploadPart', key, uploadId);
    const data = body.slice();
    // Opaque like R2's part etags, and new on every upload so a stale etag is caught.
    const etag = `${formatHex64(crc64(data))}.${++this.#seq}`;
    u.parts.set(partNumber, { etag, data });
    return { partNumber, etag };
  }

  #complete(key: string, uploadId: string, parts: UploadedPart[]): ObjectInfo {
    const u = this.#openUpload('complete', key, uploadId);
    checkPartList(key, parts);
    const chosen = parts.map((p) => {
      const part = u.parts.get(p.partNumber);
      if (part === undefined || part.etag !== p.etag) {
        throw new StorageError('STORAGE_MULTIPART_INVALID', `complete: part ${p.partNumber} with that etag was not uploaded`, {
          op: 'complete',
          key,
        });
      }
      return part;
    });
    checkPartSizes(
      key,
      chosen.map((p) => p.data.length),
      this.#minPartSize,
    );
    const data = new Uint8Array(chosen.reduce((n, p) => n + p.data.length, 0));
    let at = 0;
    for (const p of chosen) {
      data.set(p.data, at);
      at += p.data.length;
    }
    u.open = false;
    u.parts.clear();
    const etag = `${formatHex64(crc64(utf8.encode(chosen.map((p) => p.etag).join(','))))}-${chosen.length}`;
    return this.#store(key, { data, etag, uploaded: this.#now(), customMetadata: u.customMetadata });
  }

  #abort(key: string, uploadId: string): void {
    const u = this.#uploads.get(uploadId);
    if (u === undefined || u.key !== key) {
      throw new StorageError('STORAGE_NO_SUCH_UPLOAD', `abort: no upload ${uploadId} for this key`, { op: 'abort', key });
    }
    // Idempotent, and a no-op after complete (as in R2).
    u.open = false;
    u.parts.clear();
  }

  #store(key: string, obj: StoredObject): ObjectInfo {
    if (!this.#objects.has(key)) this.#sorted = null;
    this.#objects.set(key, obj);
    return toInfo(key, obj);
  }

  #sortedKeys(): string[] {
    this.#sorted ??= [...this.#objects.keys()].sort(compareKeys);
    return this.#sorted;
  }
}

function toInfo(key: string, obj: StoredObject): ObjectInfo {
  return { key, size: obj.data.length, etag: obj.etag, uploaded: new Date(obj.uploaded), customMetadata: { ...obj.customMetadata } };
}

/** First index whose key is ≥ `k`. */
function lowerBound(keys: string[], k: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(keys[mid], k) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose key is > `k`. */
function upperBound(keys: string[], k: string): number {
  const i = lowerBound(keys, k);
  return i < keys.length && keys[i] === k ? i + 1 : i;
}

/** An ObjectBody over `data` (already a private copy): `body` streams it in chunks, `bytes()` returns it. */
function makeBody(
  info: ObjectInfo,
  range: { offset: number; length: number } | undefined,
  data: Uint8Array,
  chunkSize: number,
): ObjectBody {
  let used = false;
  const take = (): void => {
    if (used) throw new TypeError('object body already used');
    used = true;
  };
  let stream: ReadableStream<Uint8Array> | undefined;
  const out: ObjectBody = {
    ...info,
    get body(): ReadableStream<Uint8Array> {
      if (stream !== undefined) return stream;
      take();
      let at = 0;
      stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (at >= data.length) return controller.close();
          const end = Math.min(at + chunkSize, data.length);
          controller.enqueue(data.slice(at, end));
          at = end;
        },
      });
      return stream;
    },
    bytes: async () => {
      take();
      return data;
    },
  };
  if (range !== undefined) out.range = range;
  return out;
}
