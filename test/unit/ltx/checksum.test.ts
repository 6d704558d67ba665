// CRC-64/GO-ISO and the rolling checksum against a bitwise reference and the spec's vectors.

import { describe, expect, it } from 'vitest';
import { pageChecksum, pageChecksumLinear } from '../../../src/ltx/checksum.ts';
import { CRC64, crc64, crcLinear } from '../../../src/ltx/crc64.ts';
import { prng } from '../../helpers/prng.ts';

/** The CRC one bit at a time, straight from the definition (reflected poly 0xD800000000000000). */
function crcBitwise(data: Uint8Array): bigint {
  let crc = (1n << 64n) - 1n;
  for (const byte of data) {
    crc ^= BigInt(byte);
    for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ 0xd800000000000000n : crc >> 1n;
  }
  return crc ^ ((1n << 64n) - 1n);
}

const SEED = 6464;

describe('CRC-64/GO-ISO', () => {
  it('check value and the spec vectors', () => {
    expect(crc64(new TextEncoder().encode('123456789'))).toBe(0xb90956c775a41001n);
    expect(pageChecksum(1, new Uint8Array(4096))).toBe(0xd9328f592d9e733dn);
    expect(pageChecksum(2, new Uint8Array(512).fill(0xff))).toBe(0xc565789fecd99000n);
  });

  it(`matches the bitwise definition at every length and alignment (seed ${SEED})`, () => {
    const r = prng(SEED);
    const buf = r.bytes(4096 + 16);
    for (let len = 0; len < 80; len++) {
      for (let off = 0; off < 8; off++) {
        const view = buf.subarray(off, off + len);
        expect(crc64(view)).toBe(crcBitwise(view));
      }
    }
    for (const len of [511, 4096, 4101]) expect(crc64(buf.subarray(3, 3 + len))).toBe(crcBitwise(buf.subarray(3, 3 + len)));
  });

  it('chunked updates and linear parts equal one pass', () => {
    const r = prng(SEED + 1);
    for (const len of [0, 1, 9, 512, 4096, 65536]) {
      const head = r.bytes(r.int(20));
      const data = r.bytes(len);
      const whole = new CRC64().update(head).update(data).digest();
      const cut = r.int(len + 1);
      expect(new CRC64().update(head).update(data, 0, cut).update(data, cut).digest()).toBe(whole);
      expect(new CRC64().update(head).appendLinear(crcLinear(data)).digest()).toBe(whole);
      expect(pageChecksumLinear(7, crcLinear(data))).toBe(pageChecksum(7, data));
    }
  });
});
