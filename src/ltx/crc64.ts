// CRC-64/GO-ISO (Go's crc64.ISO: poly 0x1B reflected, init and xorout all-ones), slice-by-8 over 32-bit halves.

// The reflected polynomial 0xD800000000000000 split into 32-bit halves. The low half is zero,
// which the table generation below does not rely on.
const POLY_HI = 0xd8000000;
const POLY_LO = 0x00000000;

// Eight 256-entry tables, each entry a 64-bit value split into hi/lo Uint32s. Table k maps a byte
// that has k more bytes after it in the 8-byte word (standard slice-by-8).
const T_HI = new Uint32Array(8 * 256);
const T_LO = new Uint32Array(8 * 256);

for (let n = 0; n < 256; n++) {
  let hi = 0;
  let lo = n;
  for (let k = 0; k < 8; k++) {
    const lsb = lo & 1;
    lo = ((lo >>> 1) | (hi << 31)) >>> 0;
    hi = hi >>> 1;
    if (lsb) {
      hi = (hi ^ POLY_HI) >>> 0;
      lo = (lo ^ POLY_LO) >>> 0;
    }
  }
  T_HI[n] = hi;
  T_LO[n] = lo;
}
for (let t = 1; t < 8; t++) {
  for (let n = 0; n < 256; n++) {
    const pHi = T_HI[(t - 1) * 256 + n];
    const pLo = T_LO[(t - 1) * 256 + n];
    const i = pLo & 0xff;
    // crc >>> 8, then xor the table-0 entry of the byte shifted out.
    T_HI[t * 256 + n] = ((pHi >>> 8) ^ T_HI[i]) >>> 0;
    T_LO[t * 256 + n] = (((pLo >>> 8) | (pHi << 24)) ^ T_LO[i]) >>> 0;
  }
}

/**
 * An incremental CRC-64/GO-ISO. `update` any number of times, then `digest()`.
 * The state is kept as two uint32 halves so the hot loop never touches bigint.
 */
export class CRC64 {
  // The running register, already inverted (Go's `crc = ^crc` on entry).
  private hi = 0xffffffff;
  private lo = 0xffffffff;

  update(data: Uint8Array, start = 0, end = data.length): this {
    let hi = this.hi;
    let lo = this.lo;
    let i = start;
    const tHi = T_HI;
    const tLo = T_LO;
    for (const stop = end - 8; i <= stop; i += 8) {
      const a = (lo ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24))) >>> 0;
      const b = (hi ^ (data[i + 4] | (data[i + 5] << 8) | (data[i + 6] << 16) | (data[i + 7] << 24))) >>> 0;
      const i7 = 7 * 256 + (a & 0xff);
      const i6 = 6 * 256 + ((a >>> 8) & 0xff);
      const i5 = 5 * 256 + ((a >>> 16) & 0xff);
      const i4 = 4 * 256 + (a >>> 24);
      const i3 = 3 * 256 + (b & 0xff);
      const i2 = 2 * 256 + ((b >>> 8) & 0xff);
      const i1 = 256 + ((b >>> 16) & 0xff);
      const i0 = b >>> 24;
      hi = tHi[i7] ^ tHi[i6] ^ tHi[i5] ^ tHi[i4] ^ tHi[i3] ^ tHi[i2] ^ tHi[i1] ^ tHi[i0];
      lo = tLo[i7] ^ tLo[i6] ^ tLo[i5] ^ tLo[i4] ^ tLo[i3] ^ tLo[i2] ^ tLo[i1] ^ tLo[i0];
    }
    for (; i < end; i++) {
      const t = (lo ^ data[i]) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ tLo[t];
      hi = (hi >>> 8) ^ tHi[t];
    }
    this.hi = hi >>> 0;
    this.lo = lo >>> 0;
    return this;
  }

  /** The CRC of everything updated so far, as an unsigned 64-bit bigint. Does not reset. */
  digest(): bigint {
    return (BigInt(~this.hi >>> 0) << 32n) | BigInt(~this.lo >>> 0);
  }
}

/** One-shot CRC-64/GO-ISO of `data`. check("123456789") = 0xb90956c775a41001. */
export function crc64(data: Uint8Array): bigint {
  return new CRC64().update(data).digest();
}
