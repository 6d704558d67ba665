// Test-only LZ4 frame writer that mimics pierrec/lz4 as used by ltx v0.5.0/v0.5.1 (legacy page frames).

import { compressBound, LZ4BlockCompressor } from '../../src/ltx/lz4-block.ts';
import { xxh32 } from '../../src/ltx/xxh32.ts';

/** FLG: version 01, independent blocks, content checksum. */
const FLG = 0x64;
/** BD: 64 KiB block maximum. */
const BD = 0x40;
const BLOCK_MAX = 64 * 1024;

const compressor = new LZ4BlockCompressor();

/**
 * Encodes `data` as one LZ4 frame like pierrec/lz4 did: magic, FLG 0x64, BD 0x40, header
 * checksum, 64 KiB blocks (a page is one block) compressed unless that does not shrink them
 * (or `stored` is set), end mark, xxh32 content checksum.
 */
export function encodeLZ4FrameForTest(data: Uint8Array, opts?: { stored?: boolean }): Uint8Array {
  const parts: number[] = [0x04, 0x22, 0x4d, 0x18, FLG, BD, (xxh32(Uint8Array.of(FLG, BD)) >>> 8) & 0xff];
  const out: Uint8Array[] = [Uint8Array.from(parts)];
  const scratch = new Uint8Array(compressBound(BLOCK_MAX));
  for (let off = 0; off < data.length; off += BLOCK_MAX) {
    const block = data.subarray(off, Math.min(off + BLOCK_MAX, data.length));
    const n = opts?.stored ? block.length : compressor.compress(block, scratch);
    const stored = n >= block.length;
    const size = stored ? block.length : n;
    out.push(u32le(stored ? (size | 0x80000000) >>> 0 : size));
    out.push(stored ? block.slice() : scratch.slice(0, n));
  }
  out.push(u32le(0), u32le(xxh32(data)));
  const total = out.reduce((sum, p) => sum + p.length, 0);
  const frame = new Uint8Array(total);
  let pos = 0;
  for (const p of out) {
    frame.set(p, pos);
    pos += p.length;
  }
  return frame;
}

function u32le(v: number): Uint8Array {
  return Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);
}
