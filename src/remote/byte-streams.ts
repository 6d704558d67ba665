// Request bodies for uploads: a file read on demand, or chunks from an async source gathered into larger ones.

import { open } from 'node:fs/promises';
import { concatBytes } from '../ltx/index.ts';

/** Read size for pushes: few syscalls and few network writes, still nothing for memory. */
export const UPLOAD_CHUNK_BYTES = 1 << 18;

/**
 * A byte stream over `file`, one chunk read per pull (so at most a chunk or two are in memory whatever
 * the file's size). The file is opened on the first pull and closed at its end, on error or on cancel.
 * `onBytes` hears each chunk's length as it is handed on.
 */
export function fileByteStream(
  file: string,
  opts: { chunkBytes?: number; onBytes?: (n: number) => void } = {},
): ReadableStream<Uint8Array> {
  const chunkBytes = opts.chunkBytes ?? UPLOAD_CHUNK_BYTES;
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  let closed = false;
  const close = async (): Promise<void> => {
    closed = true;
    const h = handle;
    handle = undefined;
    await h?.close();
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          if (closed) return controller.close();
          handle ??= await open(file, 'r');
          // A fresh buffer per chunk: the network layer may hold on to it until it is written.
          const buf = new Uint8Array(chunkBytes);
          const { bytesRead } = await handle.read(buf, 0, chunkBytes, null);
          if (bytesRead === 0) {
            await close();
            return controller.close();
          }
          controller.enqueue(bytesRead === chunkBytes ? buf : buf.slice(0, bytesRead));
          opts.onBytes?.(bytesRead);
        } catch (e) {
          await close().catch(() => undefined);
          controller.error(e);
        }
      },
      cancel: close,
    },
    { highWaterMark: 0 },
  );
}

/**
 * A byte stream pulling from `source`, gathering its chunks into ones of at least `batchBytes` (the
 * last may be smaller) so thousands of small page frames do not become thousands of network writes.
 * Nothing is read ahead of the consumer beyond one batch. Cancelling returns (closes) the source.
 */
export function batchedByteStream(source: AsyncIterable<Uint8Array>, batchBytes = UPLOAD_CHUNK_BYTES): ReadableStream<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const parts: Uint8Array[] = [];
        let size = 0;
        let done = false;
        while (size < batchBytes) {
          const r = await it.next();
          if (r.done) {
            done = true;
            break;
          }
          parts.push(r.value);
          size += r.value.length;
        }
        if (size > 0) controller.enqueue(parts.length === 1 ? parts[0] : concatBytes(parts));
        if (done) controller.close();
      },
      async cancel() {
        await it.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}

/** Passes chunks through, telling `onBytes` each one's length. */
export async function* counted(chunks: AsyncIterable<Uint8Array>, onBytes: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const c of chunks) {
    onBytes(c.length);
    yield c;
  }
}
