// One LZ4 frame over a long byte stream (the v1 LTX page block): an incremental reader and writer.
//
// lz4-frame.ts reads the small one-page frames of v3 "frame" files whole; the v1 format wraps the
// entire page block (up to the whole database) in a single frame, so it is read and written here
// block by block, never held at once. Frame layout per the LZ4 Frame Format Description 1.6.x.

import type { ByteQueue } from './byte-queue.ts';
import { fail } from './errors.ts';
import { LZ4BlockCompressor, compressBound, decompressBlock } from './lz4-block.ts';
import { xxh32 } from './xxh32.ts';
import { XXH32 } from './xxh32-stream.ts';

/** Frame magic, stored little-endian as `04 22 4D 18`. */
const FRAME_MAGIC = 0x184d2204;
const FLG_VERSION_MASK = 0xc0;
const FLG_VERSION_01 = 0x40;
const FLG_BLOCK_INDEPENDENCE = 0x20;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_RESERVED = 0x02;
const FLG_DICT_ID = 0x01;
const BD_RESERVED = 0x8f;
/** Block size word: bit 31 = stored uncompressed. */
const BLOCK_UNCOMPRESSED = 0x80000000;
/** Linked blocks may reach back this far into earlier output. */
const HISTORY_BYTES = 64 * 1024;

/** What pierrec/lz4 writes for ltx v0.3 (`BlockSizeOption(Block64Kb)`, content checksum on). */
export const LZ4_STREAM_BLOCK_SIZE = 64 * 1024;
const WRITER_FLG = FLG_VERSION_01 | FLG_BLOCK_INDEPENDENCE | FLG_CONTENT_CHECKSUM; // 0x64
const WRITER_BD = 0x40; // 64 KiB block maximum

function u32le(q: ByteQueue, i: number): number {
  return (q.byteAt(i) | (q.byteAt(i + 1) << 8) | (q.byteAt(i + 2) << 16) | (q.byteAt(i + 3) << 24)) >>> 0;
}

function putU32le(out: Uint8Array, at: number, v: number): void {
  out[at] = v & 0xff;
  out[at + 1] = (v >>> 8) & 0xff;
  out[at + 2] = (v >>> 16) & 0xff;
  out[at + 3] = v >>> 24;
}

type ReaderPhase = 'header' | 'block' | 'checksum' | 'done';

/**
 * Reads exactly one LZ4 frame from the front of a ByteQueue the caller fills; whatever follows the
 * frame stays in the queue. Independent and linked blocks, stored blocks, block checksums, content
 * size and content checksum are all verified; skippable and legacy frames are refused. Memory: one
 * block of input plus one (linked: one plus 64 KiB) of output, at most 4 MiB each (the BD maximum).
 * Only LTX_BAD_PAGE_DATA escapes.
 */
export class LZ4FrameReader {
  private phase: ReaderPhase = 'header';
  private flg = 0;
  private blockMax = 0;
  /** Declared content size, when the frame carries one. */
  private contentSize: number | undefined;
  private readonly hash = new XXH32();
  private produced = 0;
  private scratch = new Uint8Array(0);
  private historyLength = 0;

  /** True once the end mark (and content checksum) have been read and verified. */
  get ended(): boolean {
    return this.phase === 'done';
  }

  /** Decompressed bytes produced so far. */
  get contentLength(): number {
    return this.produced;
  }

  /**
   * The next block's decompressed bytes (a fresh array the caller keeps), or undefined when the
   * queue holds no further whole block or the frame has ended (see `ended`). An empty block is
   * returned as an empty array.
   */
  read(q: ByteQueue): Uint8Array | undefined {
    for (;;) {
      switch (this.phase) {
        case 'header':
          if (!this.readHeader(q)) return undefined;
          break;
        case 'block': {
          if (q.length < 4) return undefined;
          const word = u32le(q, 0);
          const size = (word & ~BLOCK_UNCOMPRESSED) >>> 0;
          if (size === 0) {
            // End mark (a stored empty block too, as the reference reader treats it).
            q.read(4);
            this.phase = this.flg & FLG_CONTENT_CHECKSUM ? 'checksum' : 'done';
            if (this.phase === 'done') this.finishContent();
            break;
          }
          if (size > this.blockMax) fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: block larger than the maximum size');
          const checksumBytes = this.flg & FLG_BLOCK_CHECKSUM ? 4 : 0;
          if (q.length < 4 + size + checksumBytes) return undefined;
          q.read(4);
          const block = q.read(size);
          if (checksumBytes) {
            const want = u32le(q, 0);
            q.read(4);
            if (xxh32(block) !== want) fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: bad block checksum');
          }
          return this.emit(block, (word & BLOCK_UNCOMPRESSED) !== 0);
        }
        case 'checksum': {
          if (q.length < 4) return undefined;
          const want = u32le(q, 0);
          q.read(4);
          this.finishContent();
          if (this.hash.digest() !== want) fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: bad content checksum');
          this.phase = 'done';
          break;
        }
        case 'done':
          return undefined;
      }
    }
  }

  private readHeader(q: ByteQueue): boolean {
    if (q.length >= 4 && u32le(q, 0) !== FRAME_MAGIC) fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: bad magic');
    if (q.length < 7) return false;
    const flg = q.byteAt(4);
    if ((flg & FLG_VERSION_MASK) !== FLG_VERSION_01) fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: unsupported version');
    if (flg & FLG_RESERVED) fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: reserved FLG bit set');
    if (flg & FLG_DICT_ID) fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: dictionary ID not supported');
    const bd = q.byteAt(5);
    if (bd & BD_RESERVED) fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: reserved BD bits set');
    const code = (bd >>> 4) & 7;
    if (code < 4) fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: invalid block maximum size');
    const size = 7 + (flg & FLG_CONTENT_SIZE ? 8 : 0);
    if (q.length < size) return false;
    const bytes = q.read(size);
    if (((xxh32(bytes.subarray(4, size - 1)) >>> 8) & 0xff) !== bytes[size - 1]) {
      fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: bad header checksum');
    }
    if (flg & FLG_CONTENT_SIZE) {
      const v = new DataView(bytes.buffer, bytes.byteOffset + 6, 8);
      const hi = v.getUint32(4, true);
      // Beyond 2^53 the size could never be reached; treat it as a mismatch at the end.
      this.contentSize = hi >= 0x200000 ? Infinity : hi * 0x100000000 + v.getUint32(0, true);
    }
    this.flg = flg;
    this.blockMax = 1 << (8 + 2 * code);
    const linked = (flg & FLG_BLOCK_INDEPENDENCE) === 0;
    this.scratch = new Uint8Array((linked ? HISTORY_BYTES : 0) + this.blockMax);
    this.phase = 'block';
    return true;
  }

  private emit(block: Uint8Array, stored: boolean): Uint8Array {
    const linked = (this.flg & FLG_BLOCK_INDEPENDENCE) === 0;
    const start = linked ? this.historyLength : 0;
    const win = this.scratch;
    let n: number;
    if (stored) {
      win.set(block, start);
      n = block.length;
    } else {
      n = decompressBlock(block, win.subarray(0, start + this.blockMax), start);
    }
    const out = win.slice(start, start + n);
    if (linked) {
      const end = start + n;
      const keep = Math.min(HISTORY_BYTES, end);
      win.copyWithin(0, end - keep, end);
      this.historyLength = keep;
    }
    this.hash.update(out);
    this.produced += n;
    if (this.contentSize !== undefined && this.produced > this.contentSize)
      fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: content longer than its declared size');
    return out;
  }

  private finishContent(): void {
    if (this.contentSize !== undefined && this.contentSize !== this.produced) {
      fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: content size differs from the declared size');
    }
  }
}

/**
 * Writes one LZ4 frame the way pierrec/lz4 did for ltx v0.3 (FLG 0x64: independent blocks, content
 * checksum; BD 0x40: 64 KiB blocks): `start()`, then `write()` any number of times (returns the
 * blocks it completed), then `finish()`. A block that does not shrink is stored uncompressed.
 */
export class LZ4FrameWriter {
  private readonly compressor: LZ4BlockCompressor;
  private readonly block = new Uint8Array(LZ4_STREAM_BLOCK_SIZE);
  private readonly scratch = new Uint8Array(compressBound(LZ4_STREAM_BLOCK_SIZE));
  private readonly hash = new XXH32();
  private filled = 0;

  constructor(compressor?: LZ4BlockCompressor) {
    this.compressor = compressor ?? new LZ4BlockCompressor();
  }

  /** Magic, frame descriptor and its checksum (7 bytes). */
  start(): Uint8Array {
    const out = new Uint8Array(7);
    putU32le(out, 0, FRAME_MAGIC);
    out[4] = WRITER_FLG;
    out[5] = WRITER_BD;
    out[6] = (xxh32(out.subarray(4, 6)) >>> 8) & 0xff;
    return out;
  }

  /** Buffers `data`; returns every block it completed (size word + payload each). */
  write(data: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.hash.update(data);
    for (let i = 0; i < data.length; ) {
      const take = Math.min(data.length - i, LZ4_STREAM_BLOCK_SIZE - this.filled);
      this.block.set(data.subarray(i, i + take), this.filled);
      this.filled += take;
      i += take;
      if (this.filled === LZ4_STREAM_BLOCK_SIZE) out.push(this.flush());
    }
    return out;
  }

  /** The last partial block, the end mark and the content checksum. */
  finish(): Uint8Array {
    const last = this.filled > 0 ? this.flush() : new Uint8Array(0);
    const out = new Uint8Array(last.length + 8);
    out.set(last, 0);
    putU32le(out, last.length + 4, this.hash.digest());
    return out;
  }

  private flush(): Uint8Array {
    const src = this.block.subarray(0, this.filled);
    const n = this.compressor.compress(src, this.scratch);
    const stored = n >= src.length;
    const size = stored ? src.length : n;
    const out = new Uint8Array(4 + size);
    putU32le(out, 0, stored ? (size | BLOCK_UNCOMPRESSED) >>> 0 : size);
    out.set(stored ? src : this.scratch.subarray(0, n), 4);
    this.filled = 0;
    return out;
  }
}
