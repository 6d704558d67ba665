// The batch page format of DESIGN §4: frames of `u32 pgno, u32 length, bytes` (big-endian), ascending pgno.

export interface BatchPage {
  pgno: number;
  data: Uint8Array;
}

/** A malformed batch is the client's fault: 400 BAD_REQUEST (errors.ts), named here without importing the Worker's error table. */
export type ParsedBatch = { ok: true; pages: BatchPage[] } | { ok: false; code: 'BAD_REQUEST'; message: string };

/** Encodes pages (ascending pgno) as one batch body. */
export function encodePageBatch(pages: readonly BatchPage[]): Uint8Array {
  let size = 0;
  for (const p of pages) size += 8 + p.data.length;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  let at = 0;
  for (const p of pages) {
    v.setUint32(at, p.pgno);
    v.setUint32(at + 4, p.data.length);
    out.set(p.data, at + 8);
    at += 8 + p.data.length;
  }
  return out;
}

/**
 * Decodes a whole batch body, checking every frame: pgno ≥ 1 and strictly ascending, length equal to
 * the page size, no partial frame at the end (the DO reads the body, bounded, with readBoundedBody).
 */
export function decodePageBatch(buf: Uint8Array, pageSize: number): ParsedBatch {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const pages: BatchPage[] = [];
  let prev = 0;
  for (let at = 0; at < buf.length; ) {
    if (at + 8 > buf.length) return bad('truncated frame header');
    const pgno = v.getUint32(at);
    const length = v.getUint32(at + 4);
    if (pgno === 0) return bad('page number 0');
    if (pgno <= prev) return bad(`page ${pgno} out of order after ${prev}`);
    if (length !== pageSize) return bad(`page ${pgno} has ${length} bytes, page size is ${pageSize}`);
    if (at + 8 + length > buf.length) return bad(`page ${pgno} truncated`);
    pages.push({ pgno, data: buf.subarray(at + 8, at + 8 + length) });
    prev = pgno;
    at += 8 + length;
  }
  return { ok: true, pages };
}

function bad(message: string): ParsedBatch {
  return { ok: false, code: 'BAD_REQUEST', message: `bad page batch: ${message}` };
}

/** Sorted page numbers as the batch endpoint's list: runs become ranges (`1,5,9-12`). */
export function formatPgnoList(pgnos: readonly number[]): string {
  const sorted = [...new Set(pgnos)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
