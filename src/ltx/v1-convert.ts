// LTX v1 files as they arrive: telling v1 from v3 by the first bytes, and converting a v1 stream to v3 block files chunk by chunk.

import { HEADER_SIZE, PAGE_HEADER_FLAG_SIZE, PAGE_HEADER_SIZE, isValidPageSize } from './constants.ts';
import type { DecoderLimits } from './decoder.ts';
import { LTXEncoder } from './encoder.ts';
import { LTXError, fail } from './errors.ts';
import type { Header } from './header.ts';
import { lz4FrameLength } from './lz4-frame.ts';
import { decodePageFrame, maxBlockPayload, maxLegacyFrame } from './page-frame.ts';
import { V1_HEADER_FLAG_COMPRESS_LZ4, V1Decoder } from './v1.ts';

/** Which generation a file is, from its first bytes. */
export type LTXGeneration = 'v1' | 'current';

/** Bytes `sniffLTXGeneration` may need before it can decide: the header and one whole first frame. */
export const SNIFF_MAX_BYTES = HEADER_SIZE + PAGE_HEADER_SIZE + Math.max(4 + maxBlockPayload(65536), maxLegacyFrame(65536));

/**
 * Tells a v1 file from a current (v3) one by its first bytes (there is no version field, §0):
 * header flag 0x1 → v1; 0x2 (NoChecksum, v3 only) or other bits → current (its decoder reports them);
 * flags 0 → current only if the first page frame decodes as a v3 frame (six zero bytes of an empty
 * page block, a sized LZ4 block, or an LZ4 frame, of exactly PageSize bytes), otherwise v1 — whose
 * frame starts with raw page bytes. Returns undefined while it needs more bytes (`ended` = no more
 * will come: then it decides with what it has, and the chosen decoder reports the truncation).
 */
export function sniffLTXGeneration(head: Uint8Array, ended = false): LTXGeneration | undefined {
  if (head.length < 8) return ended ? 'current' : undefined;
  const v = new DataView(head.buffer, head.byteOffset, head.length);
  const flags = v.getUint32(4);
  if (flags === V1_HEADER_FLAG_COMPRESS_LZ4) return 'v1';
  if (flags !== 0) return 'current';
  if (head.length < HEADER_SIZE + PAGE_HEADER_SIZE) return ended ? 'current' : undefined;
  const pageSize = v.getUint32(8);
  if (!isValidPageSize(pageSize)) return 'current';
  const pgno = v.getUint32(HEADER_SIZE);
  const pageFlags = v.getUint16(HEADER_SIZE + 4);
  if (pgno === 0 && pageFlags === 0) return 'current'; // a v3 end marker; a v1 one is followed by the flagged post-apply checksum
  if ((pageFlags & ~PAGE_HEADER_FLAG_SIZE) !== 0 || pgno === 0) return 'v1';
  // Try the first frame as v3; a frame not all there yet needs more bytes, unless none will come.
  const frame = head.subarray(HEADER_SIZE);
  try {
    const len = v3FrameLength(frame, pageSize);
    if (len === undefined) return ended || head.length >= SNIFF_MAX_BYTES ? 'v1' : undefined;
    decodePageFrame(frame.subarray(0, len), pageSize);
    return 'current';
  } catch (e) {
    if (e instanceof LTXError) return 'v1';
    throw e;
  }
}

/**
 * The byte length of the v3 frame at the start of `frame` (its 6-byte header is there), undefined
 * while it is not all there; throws LTXError when it cannot be a v3 frame.
 */
function v3FrameLength(frame: Uint8Array, pageSize: number): number | undefined {
  const v = new DataView(frame.buffer, frame.byteOffset, frame.length);
  if (v.getUint16(4) & PAGE_HEADER_FLAG_SIZE) {
    if (frame.length < 10) return undefined;
    const n = v.getUint32(6);
    if (n === 0 || n > maxBlockPayload(pageSize)) fail('LTX_BAD_PAGE_DATA', `bad compressed size ${n}`);
    return frame.length >= 10 + n ? 10 + n : undefined;
  }
  const body = frame.subarray(PAGE_HEADER_SIZE);
  const len = lz4FrameLength((i) => body[i], body.length, maxLegacyFrame(pageSize));
  return len < 0 ? undefined : PAGE_HEADER_SIZE + len;
}

/** The v3 header of a converted v1 file: every field kept, flags 0 (v1 always tracks checksums). */
export function currentHeaderOf(v1: Header): Header {
  return { ...v1, flags: 0 };
}

/** Output chunks of the converter are batched to about this many bytes. */
const CONVERT_CHUNK_BYTES = 64 * 1024;

/**
 * Re-encodes a v1 file as a v3 block file: same header fields (flags 0), same pages, same pre- and
 * post-apply checksums; a new file checksum and page index, as the format requires. Streams: the
 * header goes out as soon as it is read, pages in ~64 KiB batches, and the tail (end marker, index,
 * trailer) only once the whole v1 file has verified, so a bad input never yields a complete file.
 * Throws LTXError (from either side).
 */
export async function* convertV1ToCurrentChunks(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  limits: Partial<DecoderLimits> = {},
): AsyncGenerator<Uint8Array> {
  const dec = new V1Decoder(limits);
  let enc: LTXEncoder | undefined;
  let parts: Uint8Array[] = [];
  let size = 0;
  const take = (): Uint8Array => {
    const out = concat(parts, size);
    parts = [];
    size = 0;
    return out;
  };
  for await (const chunk of chunks) {
    dec.write(chunk);
    if (enc === undefined) {
      const h = dec.readHeader();
      if (h === undefined) continue;
      enc = new LTXEncoder(currentHeaderOf(h));
      yield enc.start();
    }
    for (let p = dec.nextPage(); p; p = dec.nextPage()) {
      const frame = enc.encodePage(p.pgno, p.data);
      parts.push(frame);
      size += frame.length;
      if (size >= CONVERT_CHUNK_BYTES) yield take();
    }
  }
  const result = dec.end();
  enc ??= new LTXEncoder(currentHeaderOf(result.header));
  parts.push(enc.finish(result.trailer.postApplyChecksum));
  size += parts[parts.length - 1].length;
  yield take();
}

/** `convertV1ToCurrentChunks` over web streams; the output errors with the LTXError of a bad input. */
export function convertV1ToCurrent(stream: ReadableStream<Uint8Array>, limits: Partial<DecoderLimits> = {}): ReadableStream<Uint8Array> {
  const it = convertV1ToCurrentChunks(readChunks(stream), limits);
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const r = await it.next();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      },
      async cancel(reason) {
        await it.return(undefined);
        await stream.cancel(reason).catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

/** The chunks of a web stream as an async iterable (releases the lock when done). */
export async function* readChunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (let r = await reader.read(); !r.done; r = await reader.read()) yield r.value;
  } finally {
    reader.releaseLock();
  }
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
