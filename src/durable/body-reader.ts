// Reads a request body in large chunks: a stream crossing into the DO otherwise arrives 4 KiB at a time.

/** The slice of a stream reader ingest uses. */
export interface ChunkReader {
  read(): Promise<{ done: true; value?: undefined } | { done: false; value: Uint8Array }>;
  cancel(): Promise<void>;
}

/** 1 MiB: large enough that per-read overhead vanishes, small next to an 8 MiB multipart part. */
export const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * Uses a BYOB reader with Workers' `readAtLeast` when the stream is a byte stream (bodies are),
 * filling a fresh buffer each time (ingest keeps chunks until their part is uploaded); falls back
 * to the default reader elsewhere. Measured on a 129 MiB push through the Worker: 4.6× the MB/s.
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
    read: async () => {
      const r = await reader.readAtLeast(chunkBytes, new Uint8Array(chunkBytes));
      if (r.value && r.value.byteLength > 0) return { done: false, value: r.value };
      return { done: true };
    },
    cancel: () => reader.cancel(),
  };
}
