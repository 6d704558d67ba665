// Reads a request body in large chunks: a stream crossing into the DO otherwise arrives 4 KiB at a time.

import { concatBytes } from '../ltx/index.ts';

/** The slice of a stream reader ingest uses. */
export interface ChunkReader {
  /** The next chunk: at least `min` bytes (default READ_MIN_BYTES) unless the body ends first. */
  read(min?: number): Promise<{ done: true; value?: undefined } | { done: false; value: Uint8Array }>;
  cancel(): Promise<void>;
}

/** 1 MiB: large enough that per-read overhead vanishes, small next to an 8 MiB multipart part. */
export const READ_CHUNK_BYTES = 1024 * 1024;
/**
 * A read returns once this much has arrived (or the body ended), so progress is seen every 64 KiB:
 * the idle deadline (UploadDeadlines) is "less than this arrived in time", a rate floor of 6.4 KB/s
 * at the default 10 s, not a wait for a whole chunk.
 */
export const READ_MIN_BYTES = 64 * 1024;

/**
 * Uses a BYOB reader with Workers' `readAtLeast` when the stream is a byte stream (bodies are),
 * filling a fresh buffer of up to `chunkBytes` each time (ingest keeps chunks until their part is
 * uploaded); falls back to the default reader elsewhere. Measured on a 129 MiB push through the
 * Worker: 4.6× the MB/s of the default reader's 4 KiB chunks.
 */
export function chunkReader(body: ReadableStream<Uint8Array>, chunkBytes = READ_CHUNK_BYTES): ChunkReader {
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = body.getReader({ mode: 'byob' });
  } catch {
    byob = undefined;
  }
  if (!byob || typeof (byob as { readAtLeast?: unknown }).readAtLeast !== 'function') {
    if (byob) byob.releaseLock();
    const reader = body.getReader();
    return {
      read: async () => {
        const r = await reader.read();
        return r.done ? { done: true } : { done: false, value: r.value };
      },
      cancel: () => reader.cancel(),
    };
  }
  const reader = byob as ReadableStreamBYOBReader & {
    readAtLeast(min: number, view: Uint8Array): Promise<ReadableStreamReadResult<Uint8Array>>;
  };
  return {
    read: async (min = READ_MIN_BYTES) => {
      const r = await reader.readAtLeast(Math.max(1, Math.min(min, chunkBytes)), new Uint8Array(chunkBytes));
      const value = r.value;
      if (!value || value.byteLength === 0) return { done: true };
      // A short read would pin its whole 1 MiB buffer while ingest holds the chunk: keep a right-sized copy.
      return { done: false, value: value.byteLength < chunkBytes / 2 ? value.slice() : value };
    },
    cancel: () => reader.cancel(),
  };
}

/** A ChunkReader over bytes already in memory: the whole of them on the first read. */
export function bytesReader(bytes: Uint8Array): ChunkReader {
  let left: Uint8Array | undefined = bytes;
  return {
    read: async () => {
      const value = left;
      left = undefined;
      return value === undefined || value.length === 0 ? { done: true } : { done: false, value };
    },
    cancel: async () => {
      left = undefined;
    },
  };
}

/** How long a client body may take: no byte for `idleMs`, or still arriving after `totalMs` → 408. */
export interface UploadDeadlines {
  idleMs: number;
  totalMs: number;
}

/** A client body missed one of its UploadDeadlines; the read was cancelled (answered 408 REQUEST_TIMEOUT). */
export class UploadTimeoutError extends Error {
  constructor(which: 'idle' | 'total', ms: number) {
    super(which === 'idle' ? `the body sent nothing for ${ms} ms` : `the body was still arriving after ${ms} ms`);
    this.name = 'UploadTimeoutError';
  }
}

/** A client's body broke off (the client went away or its stream failed): answered 400, nothing kept. */
export class BodyReadError extends Error {
  constructor(cause: unknown) {
    super(`the request body failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'BodyReadError';
  }
}

/**
 * A client's body: `inner` with deadlines on every read: a read that waits past the idle deadline, or past the total
 * one counted from this call, cancels the body and throws UploadTimeoutError (and so does every read
 * after it), so a stalled client never holds whoever waits on the reader. A read that fails is a
 * BodyReadError: the client's fault, not ours.
 */
export function withDeadlines(inner: ChunkReader, d: UploadDeadlines): ChunkReader {
  const end = Date.now() + d.totalMs;
  let expired: UploadTimeoutError | undefined;
  return {
    read: async (min?: number) => {
      if (expired) throw expired;
      const left = end - Date.now();
      const [ms, which] = left < d.idleMs ? [Math.max(0, left), 'total' as const] : [d.idleMs, 'idle' as const];
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject((expired = new UploadTimeoutError(which, which === 'idle' ? d.idleMs : d.totalMs))), ms);
      });
      try {
        return await Promise.race([inner.read(min), timeout]);
      } catch (e) {
        if (e !== expired) throw new BodyReadError(e);
        // Not awaited: a stalled body's cancel may itself wait on the client.
        void inner.cancel().catch(() => undefined);
        throw e;
      } finally {
        clearTimeout(timer);
      }
    },
    cancel: () => inner.cancel(),
  };
}

/**
 * Reads what is left of a body we will not use, up to `limit` bytes, then cancels: a server that
 * answers while the client is still sending makes HTTP stacks reset the connection, and the client
 * would see ECONNRESET instead of our error.
 */
export async function drainBody(reader: ChunkReader, limit: number): Promise<void> {
  try {
    for (let read = 0; read <= limit; ) {
      const r = await reader.read();
      if (r.done) return;
      read += r.value.length;
    }
  } catch {
    // The body is broken, gone or past its deadline: nothing left to drain.
  }
  await reader.cancel().catch(() => undefined);
}

/** Up to 256 MiB of a refused body is read and dropped so the client gets its error; past that, cancel. */
export const DRAIN_LIMIT_BYTES = 256 * 1024 * 1024;

export type BoundedBody =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; code: 'PAYLOAD_TOO_LARGE' | 'REQUEST_TIMEOUT' | 'BAD_REQUEST'; message: string };

/**
 * A whole body of at most `maxBytes`, read under `deadlines`. Past `maxBytes` the rest is drained (up
 * to `drainLimit`) so the client sees the 413; a missed deadline answers REQUEST_TIMEOUT.
 */
export async function readBoundedBody(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  deadlines: UploadDeadlines,
  drainLimit = DRAIN_LIMIT_BYTES,
): Promise<BoundedBody> {
  const reader = withDeadlines(chunkReader(body, Math.min(READ_CHUNK_BYTES, maxBytes + 1)), deadlines);
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      total += r.value.length;
      if (total > maxBytes) {
        await drainBody(reader, drainLimit);
        return { ok: false, code: 'PAYLOAD_TOO_LARGE', message: `the body is larger than ${maxBytes} bytes` };
      }
      chunks.push(r.value);
    }
  } catch (e) {
    if (e instanceof UploadTimeoutError) return { ok: false, code: 'REQUEST_TIMEOUT', message: e.message };
    if (e instanceof BodyReadError) return { ok: false, code: 'BAD_REQUEST', message: e.message };
    throw e;
  }
  return { ok: true, bytes: concatBytes(chunks) };
}
