// SQLite's WAL checksum: a Fletcher-like running sum over 32-bit words taken two at a time (fileformat §4.1).

/**
 * A running checksum: the pair (s1, s2) of u32 values. `walChecksum` leaves them as u32
 * (0..2^32-1) so they compare directly with fields read through DataView.getUint32.
 */
export interface WALChecksum {
  s1: number;
  s2: number;
}

/**
 * Continues the running checksum `sum` over `bytes[start..end)` in place. `end - start` must be a
 * multiple of 8 (SQLite only sums the 24-byte header, 8-byte frame-header prefixes and whole pages).
 * `bigEndian` is the WAL magic's low bit: words are read big-endian when set, little-endian otherwise.
 *
 * s1 += x[i] + s2; s2 += x[i+1] + s1, all mod 2^32: the loop adds in int32 (`| 0` wraps exactly as
 * u32 addition does) and converts to u32 once at the end.
 *
 * Why DataView and not an Int32Array view for the host's byte order: measured on Node 24 (V8 inlines
 * DataView reads), one core of an AMD EPYC, 4 KiB calls over 64 MiB: DataView ~8.3 GB/s little-endian,
 * ~5.7–7.2 GB/s big-endian, aligned or not; an aligned Int32Array view (+ byte swap for big-endian)
 * was no faster (~8.2 and ~5.3 GB/s). `scanWAL` over whole WALs runs at ~3.5–6 GB/s (4 KiB pages)
 * and ~5–10 GB/s (64 KiB pages).
 */
export function walChecksum(bytes: Uint8Array, start: number, end: number, bigEndian: boolean, sum: WALChecksum): void {
  let s1 = sum.s1 | 0;
  let s2 = sum.s2 | 0;
  const n = end - start;
  const dv = new DataView(bytes.buffer, bytes.byteOffset + start, n);
  const little = !bigEndian;
  for (let k = 0; k < n; k += 8) {
    s1 = (s1 + dv.getInt32(k, little) + s2) | 0;
    s2 = (s2 + dv.getInt32(k + 4, little) + s1) | 0;
  }
  sum.s1 = s1 >>> 0;
  sum.s2 = s2 >>> 0;
}
