// CRC-64/GO-ISO and the rolling checksum against a bitwise reference and the spec's vectors.

import { describe, expect, it } from 'vitest';
import { pageChecksum, pageChecksumLinear } from '../../../src/ltx/checksum.ts';
import { CRC64, compileCRC64Kernel, crc64, crc64Backend, crcLinear, useCRC64Kernel } from '../../../src/ltx/crc64.ts';
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

describe('the WebAssembly kernel', () => {
  const kernel = compileCRC64Kernel();

  /** What `fn` computes with the JS reference alone and with the kernel. */
  function both<T>(fn: () => T): { js: T; wasm: T } {
    useCRC64Kernel(null);
    try {
      const js = fn();
      useCRC64Kernel(kernel);
      return { js, wasm: fn() };
    } finally {
      useCRC64Kernel(kernel);
    }
  }

  it('is what Node runs', () => {
    expect(crc64Backend()).toBe('wasm');
  });

  it(`agrees with the JS reference around its thresholds, pieces and alignments (seed ${SEED + 2})`, () => {
    const r = prng(SEED + 2);
    const buf = r.bytes(3 * 65536 + 64);
    const lengths = [0, 31, 511, 512, 513, 543, 544, 4096, 65535, 65536, 65537, 65536 + 31, 65536 + 512, 3 * 65536];
    const { js, wasm } = both(() => lengths.flatMap((len) => [0, 1, 3, 4, 7].map((off) => crc64(buf.subarray(off, off + len)))));
    expect(wasm).toEqual(js);
    for (const len of [512, 4096, 65536 + 100]) expect(crc64(buf.subarray(5, 5 + len))).toBe(crcBitwise(buf.subarray(5, 5 + len)));
  });

  it('continues a running register and gives the same linear parts', () => {
    const r = prng(SEED + 3);
    const cuts = Array.from({ length: 64 }, () => r.int(70_000));
    const data = r.bytes(1 << 20);
    const { js, wasm } = both(() => {
      const c = new CRC64();
      let at = 0;
      const parts = [];
      for (const n of cuts) {
        c.update(data, at, Math.min(data.length, at + n));
        parts.push(crcLinear(data.subarray(at, Math.min(data.length, at + n))));
        at = (at + n) % (data.length - 70_000);
      }
      return { digest: c.digest(), parts };
    });
    expect(wasm).toEqual(js);
  });
});
