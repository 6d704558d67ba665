// Test-only v1 LTX writer that can break any rule on purpose while keeping a valid file checksum.

import { CHECKSUM_FLAG } from '../../src/ltx/constants.ts';
import { CRC64 } from '../../src/ltx/crc64.ts';
import { type Header, writeHeaderBytes } from '../../src/ltx/header.ts';
import { LZ4FrameWriter } from '../../src/ltx/lz4-frame-stream.ts';

export interface V1Spec {
  header: Header;
  pages: { pgno: number; data: Uint8Array }[];
  postApplyChecksum: bigint;
  /** Compress the page block as one LZ4 frame (default: header flag 0x1). */
  compress?: boolean;
  /** Bytes written instead of the 4-byte zero terminator (default: the terminator). */
  terminator?: Uint8Array;
  /** Bytes placed after the terminator inside the page block (hashed like the rest). */
  afterTerminator?: Uint8Array;
  /** Set header byte [i] to v after encoding. */
  headerPatch?: [number, number][];
  /** File checksum to write instead of the correct one. */
  fileChecksum?: bigint;
  /** Bytes appended after the trailer. */
  trailing?: Uint8Array;
  /** Rewrites the LZ4 frame bytes before they are stored. */
  patchFrame?: (frame: Uint8Array) => Uint8Array;
}

/** Writes the v1 file the spec describes; the file checksum is correct unless overridden. */
export function buildV1(spec: V1Spec): Uint8Array {
  const crc = new CRC64();
  const header = writeHeaderBytes(spec.header);
  for (const [i, v] of spec.headerPatch ?? []) header[i] = v;
  crc.update(header);
  const block: Uint8Array[] = [];
  for (const p of spec.pages) {
    const h = new Uint8Array(4);
    new DataView(h.buffer).setUint32(0, p.pgno);
    block.push(h, p.data);
  }
  block.push(spec.terminator ?? new Uint8Array(4));
  if (spec.afterTerminator) block.push(spec.afterTerminator);
  for (const b of block) crc.update(b);
  const compress = spec.compress ?? (spec.header.flags & 1) !== 0;
  let body: Uint8Array[] = block;
  if (compress) {
    const w = new LZ4FrameWriter();
    const parts = [w.start()];
    for (const b of block) parts.push(...w.write(b));
    parts.push(w.finish());
    const frame = concat(parts);
    body = [spec.patchFrame ? spec.patchFrame(frame) : frame];
  }
  const trailer = new Uint8Array(16);
  const v = new DataView(trailer.buffer);
  v.setBigUint64(0, spec.postApplyChecksum);
  crc.update(trailer, 0, 8);
  v.setBigUint64(8, spec.fileChecksum ?? CHECKSUM_FLAG | crc.digest());
  return concat([header, ...body, trailer, spec.trailing ?? new Uint8Array(0)]);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
