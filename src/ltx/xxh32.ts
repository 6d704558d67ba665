// xxHash32 (the LZ4 frame format's header, block and content checksum), 4 bytes per step with Math.imul.

const PRIME1 = 0x9e3779b1;
const PRIME2 = 0x85ebca77;
const PRIME3 = 0xc2b2ae3d;
const PRIME4 = 0x27d4eb2f;
const PRIME5 = 0x165667b1;

/**
 * xxHash32 of `data` with `seed` (default 0), as an unsigned 32-bit number.
 * The LZ4 frame format always uses seed 0.
 */
export function xxh32(data: Uint8Array, seed = 0): number {
  const len = data.length;
  let i = 0;
  let h: number;

  if (len >= 16) {
    let v1 = (seed + PRIME1 + PRIME2) | 0;
    let v2 = (seed + PRIME2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - PRIME1) | 0;
    const limit = len - 16;
    while (i <= limit) {
      let lane = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
      v1 = (v1 + Math.imul(lane, PRIME2)) | 0;
      v1 = Math.imul((v1 << 13) | (v1 >>> 19), PRIME1);
      lane = data[i + 4] | (data[i + 5] << 8) | (data[i + 6] << 16) | (data[i + 7] << 24);
      v2 = (v2 + Math.imul(lane, PRIME2)) | 0;
      v2 = Math.imul((v2 << 13) | (v2 >>> 19), PRIME1);
      lane = data[i + 8] | (data[i + 9] << 8) | (data[i + 10] << 16) | (data[i + 11] << 24);
      v3 = (v3 + Math.imul(lane, PRIME2)) | 0;
      v3 = Math.imul((v3 << 13) | (v3 >>> 19), PRIME1);
      lane = data[i + 12] | (data[i + 13] << 8) | (data[i + 14] << 16) | (data[i + 15] << 24);
      v4 = (v4 + Math.imul(lane, PRIME2)) | 0;
      v4 = Math.imul((v4 << 13) | (v4 >>> 19), PRIME1);
      i += 16;
    }
    h = (((v1 << 1) | (v1 >>> 31)) + ((v2 << 7) | (v2 >>> 25)) + ((v3 << 12) | (v3 >>> 20)) + ((v4 << 18) | (v4 >>> 14))) | 0;
  } else {
    h = (seed + PRIME5) | 0;
  }

  // The total length is mixed in modulo 2^32.
  h = (h + len) | 0;

  while (i + 4 <= len) {
    const lane = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    h = (h + Math.imul(lane, PRIME3)) | 0;
    h = Math.imul((h << 17) | (h >>> 15), PRIME4);
    i += 4;
  }
  while (i < len) {
    h = (h + Math.imul(data[i], PRIME5)) | 0;
    h = Math.imul((h << 11) | (h >>> 21), PRIME1);
    i++;
  }

  h ^= h >>> 15;
  h = Math.imul(h, PRIME2);
  h ^= h >>> 13;
  h = Math.imul(h, PRIME3);
  h ^= h >>> 16;
  return h >>> 0;
}
