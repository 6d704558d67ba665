// Test-only LTX writer that can break any rule on purpose while keeping a valid file checksum.

import { CHECKSUM_FLAG } from '../../src/ltx/constants.ts';
import { CRC64 } from '../../src/ltx/crc64.ts';
import { type Header, writeHeaderBytes } from '../../src/ltx/header.ts';
import { LZ4BlockCompressor, compressBound } from '../../src/ltx/lz4-block.ts';
import { encodeLZ4FrameForTest } from './lz4-frame-writer.ts';

export interface FrameSpec {
  pgno: number;
  /** The page as the checksum sees it (the decompressed bytes). */
  data: Uint8Array;
  /** Page header flags; default 1 (block), or 0 when `legacy`. */
  flags?: number;
  /** Write a legacy LZ4 frame instead of a sized block. */
  legacy?: boolean;
  /** Raw payload bytes to store instead of compressing `data`. */
  payload?: Uint8Array;
}

export interface FileSpec {
  header: Header;
  frames: FrameSpec[];
  postApplyChecksum: bigint;
  /** Set header byte [i] to v after encoding (e.g. a reserved byte). */
  headerPatch?: [number, number][];
  /** Index entries to write instead of the true ones. */
  index?: { pgno: number; offset: number; size: number }[];
  /** Index length field to write instead of the true one. */
  indexLength?: bigint;
  /** File checksum to write instead of the correct one. */
  fileChecksum?: bigint;
  /** Bytes appended after the trailer. */
  trailing?: Uint8Array;
}

const compressor = new LZ4BlockCompressor();

function uvarint(out: number[], value: number): void {
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

/** Writes the file the spec describes; the file checksum is correct unless overridden. */
export function buildLTX(spec: FileSpec): Uint8Array {
  const parts: Uint8Array[] = [];
  const crc = new CRC64();
  const header = writeHeaderBytes(spec.header);
  for (const [i, v] of spec.headerPatch ?? []) header[i] = v;
  parts.push(header);
  crc.update(header);
  let offset = 100;
  const entries: { pgno: number; offset: number; size: number }[] = [];
  for (const f of spec.frames) {
    const flags = f.flags ?? (f.legacy ? 0 : 1);
    const head = new Uint8Array(f.legacy ? 6 : 10);
    const v = new DataView(head.buffer);
    v.setUint32(0, f.pgno);
    v.setUint16(4, flags);
    let body: Uint8Array;
    if (f.legacy) {
      body = f.payload ?? encodeLZ4FrameForTest(f.data);
    } else {
      if (f.payload) body = f.payload;
      else {
        const scratch = new Uint8Array(compressBound(f.data.length));
        body = scratch.slice(0, compressor.compress(f.data, scratch));
      }
      v.setUint32(6, body.length);
    }
    parts.push(head, body);
    crc.update(head).update(f.data);
    entries.push({ pgno: f.pgno, offset, size: head.length + body.length });
    offset += head.length + body.length;
  }
  const tail: number[] = [0, 0, 0, 0, 0, 0];
  const idx: number[] = [];
  for (const e of spec.index ?? entries) {
    uvarint(idx, e.pgno);
    uvarint(idx, e.offset);
    uvarint(idx, e.size);
  }
  idx.push(0);
  tail.push(...idx);
  const rest = new Uint8Array(tail.length + 8 + 16);
  rest.set(tail);
  const rv = new DataView(rest.buffer);
  rv.setBigUint64(tail.length, spec.indexLength ?? BigInt(idx.length));
  rv.setBigUint64(tail.length + 8, spec.postApplyChecksum);
  crc.update(rest, 0, rest.length - 8);
  rv.setBigUint64(tail.length + 16, spec.fileChecksum ?? CHECKSUM_FLAG | crc.digest());
  parts.push(rest);
  if (spec.trailing) parts.push(spec.trailing);
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  n = 0;
  for (const p of parts) {
    out.set(p, n);
    n += p.length;
  }
  return out;
}
