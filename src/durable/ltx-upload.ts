// Writes one LTX object to R2 as bytes stream in: buffered and put once when small, multipart when large.

import type { ObjectInfo, MultipartUpload, ObjectStore } from '../storage/object-store.ts';
import { DO_RETRY, doRetry, withRetry } from '../storage/retry.ts';

/** Part size for multipart uploads: R2 needs ≥ 5 MiB and equal parts; 8 MiB bounds memory per ingest. */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

export interface LtxUploadOptions {
  customMetadata: Record<string, string>;
  partSize?: number;
  /** Backoff base for retries (ms); 0 in tests. */
  retryDelayMs?: number;
}

/** The object now at the key was not written by this upload and holds other bytes. */
export class UploadConflictError extends Error {
  constructor(key: string) {
    super(`a different object already exists at ${key}`);
    this.name = 'UploadConflictError';
  }
}

/**
 * Accumulates the file's raw bytes. Nothing is visible at `key` until `finish()`: a small file is
 * put once with a create-only condition; a large one goes through a multipart upload whose parts
 * are sent as they fill and which is completed only in `finish()` (after the caller verified the
 * trailer) or aborted. If the key already holds an object (an earlier attempt whose response was
 * lost), it counts as ours when its size and file checksum (the last 8 bytes) are ours.
 */
export class LtxUpload {
  private readonly store: ObjectStore;
  private readonly key: string;
  private readonly opts: Required<LtxUploadOptions>;
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private total = 0;
  private tail = new Uint8Array(8);
  private multipart: MultipartUpload | undefined;
  private readonly parts: { partNumber: number; etag: string }[] = [];

  constructor(store: ObjectStore, key: string, opts: LtxUploadOptions) {
    this.store = store;
    this.key = key;
    this.opts = {
      customMetadata: opts.customMetadata,
      partSize: opts.partSize ?? DEFAULT_PART_SIZE,
      retryDelayMs: opts.retryDelayMs ?? DO_RETRY.baseDelayMs,
    };
  }

  get size(): number {
    return this.total;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.total += chunk.length;
    this.keepTail(chunk);
    while (this.buffered >= this.opts.partSize) await this.sendPart(this.take(this.opts.partSize));
  }

  /** Makes the object visible at its key. Returns its info. */
  async finish(): Promise<ObjectInfo> {
    const rest = this.take(this.buffered);
    if (!this.multipart) {
      const put = await this.retry(() => this.store.put(this.key, rest, { customMetadata: this.opts.customMetadata, ifAbsent: true }));
      return put ?? (await this.adoptExisting());
    }
    if (rest.length > 0) await this.sendPart(rest);
    const existing = await this.retry(() => this.store.head(this.key));
    if (existing) {
      await this.abort();
      return this.adoptExisting();
    }
    const upload = this.multipart;
    try {
      return await this.retry(() => upload.complete(this.parts));
    } catch (err) {
      // A completion whose response was lost leaves the object in place.
      const info = await this.retry(() => this.store.head(this.key));
      if (info && (await this.isOurs(info))) return info;
      throw err;
    }
  }

  /** Drops everything sent so far. Safe to call more than once. */
  async abort(): Promise<void> {
    const upload = this.multipart;
    this.multipart = undefined;
    this.chunks = [];
    this.buffered = 0;
    if (upload) await this.retry(() => upload.abort()).catch(() => undefined);
  }

  private async sendPart(bytes: Uint8Array): Promise<void> {
    if (!this.multipart) {
      this.multipart = await this.retry(() => this.store.createMultipart(this.key, { customMetadata: this.opts.customMetadata }));
    }
    const upload = this.multipart;
    const partNumber = this.parts.length + 1;
    this.parts.push(await this.retry(() => upload.uploadPart(partNumber, bytes)));
  }

  private async adoptExisting(): Promise<ObjectInfo> {
    const info = await this.retry(() => this.store.head(this.key));
    if (info && (await this.isOurs(info))) return info;
    throw new UploadConflictError(this.key);
  }

  private async isOurs(info: ObjectInfo): Promise<boolean> {
    if (info.size !== this.total) return false;
    const got = await this.retry(() => this.store.get(this.key, { suffix: 8 }));
    if (!got) return false;
    const bytes = await got.bytes();
    return bytes.length === 8 && bytes.every((b, i) => b === this.tail[i]);
  }

  /** Remembers the last 8 bytes written (the file checksum once the file is whole). */
  private keepTail(chunk: Uint8Array): void {
    if (chunk.length >= 8) {
      this.tail = chunk.slice(chunk.length - 8);
    } else {
      const next = new Uint8Array(8);
      next.set(this.tail.subarray(chunk.length), 0);
      next.set(chunk, 8 - chunk.length);
      this.tail = next;
    }
  }

  /** Removes `n` bytes from the front of the buffer as one array. */
  private take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0];
      const k = Math.min(c.length, n - filled);
      out.set(c.subarray(0, k), filled);
      filled += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= n;
    return out;
  }

  private retry<T>(fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, doRetry(this.opts.retryDelayMs));
  }
}
