// An ObjectStore wrapper that counts and logs what reaches storage, so tests can assert R2 operation costs.

import type {
  ByteRange,
  ListOptions,
  ListResult,
  MultipartOptions,
  MultipartUpload,
  ObjectBody,
  ObjectInfo,
  ObjectStore,
  PutOptions,
} from '../../src/storage/object-store.ts';

export interface StoreCounts {
  gets: number;
  /** Gets with a range. */
  rangedGets: number;
  /** Gets of whole objects. */
  fullGets: number;
  heads: number;
  puts: number;
  lists: number;
  deletes: number;
  /** Bytes handed out by bodies (bytes() or the stream), as consumed. */
  bytes: number;
  /** Whole-object bodies being streamed right now, and the most at once. */
  openStreams: number;
  maxOpenStreams: number;
  /** Gets not yet consumed (a Worker's connections): from the call until bytes() or the stream's end. */
  connections: number;
  maxConnections: number;
}

export interface GetLogEntry {
  key: string;
  range?: ByteRange;
}

const zeroCounts = (): StoreCounts => ({
  gets: 0,
  rangedGets: 0,
  fullGets: 0,
  heads: 0,
  puts: 0,
  lists: 0,
  deletes: 0,
  bytes: 0,
  openStreams: 0,
  maxOpenStreams: 0,
  connections: 0,
  maxConnections: 0,
});

/** Wraps `inner`; `counts` and `getLog` grow with every call, `reset()` zeroes them. */
export class CountingStore implements ObjectStore {
  readonly inner: ObjectStore;
  counts: StoreCounts = zeroCounts();
  getLog: GetLogEntry[] = [];

  constructor(inner: ObjectStore) {
    this.inner = inner;
  }

  reset(): void {
    const { openStreams, connections } = this.counts;
    this.counts = zeroCounts();
    this.counts.openStreams = openStreams;
    this.counts.connections = connections;
    this.getLog = [];
  }

  put(key: string, body: Uint8Array, opts?: PutOptions): Promise<ObjectInfo | null> {
    this.counts.puts++;
    return this.inner.put(key, body, opts);
  }

  async get(key: string, range?: ByteRange): Promise<ObjectBody | null> {
    const c = this.counts;
    c.gets++;
    if (range === undefined) c.fullGets++;
    else c.rangedGets++;
    this.getLog.push(range === undefined ? { key } : { key, range });
    c.connections++;
    c.maxConnections = Math.max(c.maxConnections, c.connections);
    let obj: ObjectBody | null;
    try {
      obj = await this.inner.get(key, range);
    } catch (e) {
      this.counts.connections--;
      throw e;
    }
    if (obj === null) {
      this.counts.connections--;
      return null;
    }
    return this.wrap(obj);
  }

  head(key: string): Promise<ObjectInfo | null> {
    this.counts.heads++;
    return this.inner.head(key);
  }

  delete(keys: string | string[]): Promise<void> {
    this.counts.deletes++;
    return this.inner.delete(keys);
  }

  list(opts: ListOptions): Promise<ListResult> {
    this.counts.lists++;
    return this.inner.list(opts);
  }

  createMultipart(key: string, opts?: MultipartOptions): Promise<MultipartUpload> {
    return this.inner.createMultipart(key, opts);
  }

  resumeMultipart(key: string, uploadId: string): MultipartUpload {
    return this.inner.resumeMultipart(key, uploadId);
  }

  /** Counts bytes as they are consumed, and open whole-object streams until they end or are cancelled. */
  private wrap(obj: ObjectBody): ObjectBody {
    const self = this;
    let stream: ReadableStream<Uint8Array> | undefined;
    // Not `...obj`: spreading would read its `body` getter and use the body up.
    const out: ObjectBody = {
      key: obj.key,
      size: obj.size,
      etag: obj.etag,
      uploaded: obj.uploaded,
      customMetadata: obj.customMetadata,
      get body(): ReadableStream<Uint8Array> {
        if (stream !== undefined) return stream;
        const reader = obj.body.getReader();
        const c = () => self.counts;
        let open = true;
        const close = () => {
          if (open) {
            c().openStreams--;
            c().connections--;
          }
          open = false;
        };
        c().openStreams++;
        c().maxOpenStreams = Math.max(c().maxOpenStreams, c().openStreams);
        stream = new ReadableStream<Uint8Array>(
          {
            async pull(controller) {
              const r = await reader.read();
              if (r.done) {
                close();
                controller.close();
              } else {
                c().bytes += r.value.length;
                controller.enqueue(r.value);
              }
            },
            async cancel(reason) {
              close();
              await reader.cancel(reason);
            },
          },
          { highWaterMark: 0 },
        );
        return stream;
      },
      bytes: async () => {
        try {
          const b = await obj.bytes();
          self.counts.bytes += b.length;
          return b;
        } finally {
          self.counts.connections--;
        }
      },
    };
    if (obj.range !== undefined) out.range = obj.range;
    return out;
  }
}
