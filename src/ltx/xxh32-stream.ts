// Incremental xxHash32 (seed 0 by default): the content checksum of an LZ4 frame too long to hash in one call.

const PRIME1 = 0x9e3779b1;
const PRIME2 = 0x85ebca77;
const PRIME3 = 0xc2b2ae3d;
const PRIME4 = 0x27d4eb2f;
const PRIME5 = 0x165667b1;

function round(acc: number, lane: number): number {
  const v = (acc + Math.imul(lane, PRIME2)) | 0;
  return Math.imul((v << 13) | (v >>> 19), PRIME1);
}

/**
 * `update()` any number of times, then `digest()`: equals `xxh32(concatenation)` (xxh32.ts) for any
 * split of the input. Keeps the four lanes and at most 15 buffered bytes.
 */
export class XXH32 {
  private v1: number;
  private v2: number;
  private v3: number;
  private v4: number;
  private readonly seed: number;
  private total = 0;
  private readonly buf = new Uint8Array(16);
  private buffered = 0;

  constructor(seed = 0) {
    this.seed = seed | 0;
    this.v1 = (this.seed + PRIME1 + PRIME2) | 0;
    this.v2 = (this.seed + PRIME2) | 0;
    this.v3 = this.seed;
    this.v4 = (this.seed - PRIME1) | 0;
  }

  update(data: Uint8Array): this {
    let i = 0;
    const len = data.length;
    this.total += len;
    if (this.buffered > 0) {
      const take = Math.min(16 - this.buffered, len);
      this.buf.set(data.subarray(0, take), this.buffered);
      this.buffered += take;
      i = take;
      if (this.buffered < 16) return this;
      this.stripe(this.buf, 0);
      this.buffered = 0;
    }
    for (; i + 16 <= len; i += 16) this.stripe(data, i);
    if (i < len) {
      this.buf.set(data.subarray(i), 0);
      this.buffered = len - i;
    }
    return this;
  }

  private stripe(d: Uint8Array, i: number): void {
    this.v1 = round(this.v1, d[i] | (d[i + 1] << 8) | (d[i + 2] << 16) | (d[i + 3] << 24));
    this.v2 = round(this.v2, d[i + 4] | (d[i + 5] << 8) | (d[i + 6] << 16) | (d[i + 7] << 24));
    this.v3 = round(this.v3, d[i + 8] | (d[i + 9] << 8) | (d[i + 10] << 16) | (d[i + 11] << 24));
    this.v4 = round(this.v4, d[i + 12] | (d[i + 13] << 8) | (d[i + 14] << 16) | (d[i + 15] << 24));
  }

  /** The hash of everything updated so far, unsigned 32-bit. Does not reset. */
  digest(): number {
    let h: number;
    if (this.total >= 16) {
      const { v1, v2, v3, v4 } = this;
      h = (((v1 << 1) | (v1 >>> 31)) + ((v2 << 7) | (v2 >>> 25)) + ((v3 << 12) | (v3 >>> 20)) + ((v4 << 18) | (v4 >>> 14))) | 0;
    } else {
      h = (this.seed + PRIME5) | 0;
    }
    // The total length is mixed in modulo 2^32.
    h = (h + (this.total % 0x100000000)) | 0;
    const b = this.buf;
    const n = this.buffered;
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      h = (h + Math.imul(b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24), PRIME3)) | 0;
      h = Math.imul((h << 17) | (h >>> 15), PRIME4);
    }
    for (; i < n; i++) {
      h = (h + Math.imul(b[i], PRIME5)) | 0;
      h = Math.imul((h << 11) | (h >>> 21), PRIME1);
    }
    h ^= h >>> 15;
    h = Math.imul(h, PRIME2);
    h ^= h >>> 13;
    h = Math.imul(h, PRIME3);
    h ^= h >>> 16;
    return h >>> 0;
  }
}
