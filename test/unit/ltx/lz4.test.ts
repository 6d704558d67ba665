// xxh32 vectors, LZ4 block round trips, cross-checks with lz4js, decoder rejections and a mutation fuzz.

import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { LTXError } from '../../../src/ltx/errors.ts';
import { compressBound, decompressBlock, LZ4BlockCompressor } from '../../../src/ltx/lz4-block.ts';
import { xxh32 } from '../../../src/ltx/xxh32.ts';
import { prng } from '../../helpers/prng.ts';
import type { Prng } from '../../helpers/prng.ts';

// lz4js is CommonJS without types; describe the parts we use.
interface Lz4js {
  decompressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number;
  /** Returns 0 when it found no match (the caller is expected to store the data raw). */
  compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
}
interface Lz4jsXxh32 {
  hash(seed: number, src: Uint8Array, index: number, len: number): number;
}
const require = createRequire(import.meta.url);
const lz4js = require('lz4js') as Lz4js;
const lz4jsXxh32 = require('lz4js/xxh32.js') as Lz4jsXxh32;

const enc = new TextEncoder();

/** Expects `fn` to throw an LTXError with `code`. */
function expectCode(fn: () => unknown, code: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(LTXError);
  expect((caught as LTXError).code).toBe(code);
}

/** Page-like inputs of length n: the kinds SQLite pages are made of. */
function makeInput(kind: string, n: number, r: Prng): Uint8Array {
  const out = new Uint8Array(n);
  switch (kind) {
    case 'zeros':
      break;
    case 'random':
      out.set(r.bytes(n));
      break;
    case 'byte-run':
      out.fill(0xa5);
      break;
    case 'pattern': {
      const period = 1 + r.int(40);
      const pat = r.bytes(period);
      for (let i = 0; i < n; i++) out[i] = pat[i % period];
      break;
    }
    case 'records': {
      // Text-like rows packed from the end of the page, zeros in front (a table leaf page).
      let pos = n;
      let id = r.int(100000);
      const names = ['alice', 'bob', 'carol', 'dave', 'erin', 'mallory'];
      for (;;) {
        const row = enc.encode(`${id++}|${names[r.int(names.length)]}@example.com|active|${r.int(1000)}|`);
        if (pos - row.length < 0) break;
        pos -= row.length;
        out.set(row, pos);
      }
      break;
    }
    case 'mixed': {
      // Records, a random quarter, and a zero gap.
      out.set(makeInput('records', n, r));
      const q = n >> 2;
      out.set(r.bytes(q), q);
      out.fill(0, 2 * q, 2 * q + (q >> 1));
      break;
    }
    default:
      throw new Error(`unknown kind ${kind}`);
  }
  return out;
}
const KINDS = ['zeros', 'random', 'byte-run', 'pattern', 'records', 'mixed'];
const SIZES = [0, 1, 2, 4, 5, 11, 12, 13, 14, 16, 17, 31, 100, 255, 256, 270, 1000];
for (let s = 512; s <= 65536; s *= 2) SIZES.push(s);

/**
 * Walks an LZ4 block and checks the end-of-block rules a strict decoder relies on: the block ends
 * with a literals-only sequence, every match starts ≥ 12 bytes and ends ≥ 5 bytes before the end.
 */
function checkBlockRules(block: Uint8Array, n: number): void {
  let s = 0;
  let d = 0;
  for (;;) {
    const token = block[s++];
    let lit = token >>> 4;
    if (lit === 15) for (let b = 255; b === 255; lit += b) b = block[s++];
    s += lit;
    d += lit;
    if (s === block.length) break;
    s += 2;
    let ml = token & 15;
    if (ml === 15) for (let b = 255; b === 255; ml += b) b = block[s++];
    expect(d).toBeLessThanOrEqual(n - 12);
    d += ml + 4;
    expect(d).toBeLessThanOrEqual(n - 5);
  }
  expect(d).toBe(n);
}

describe('xxh32', () => {
  it('matches known vectors', () => {
    expect(xxh32(new Uint8Array(0))).toBe(0x02cc5d05);
    expect(xxh32(new Uint8Array(0), 0)).toBe(0x02cc5d05);
    expect(xxh32(enc.encode('abc'))).toBe(0x32d153ff);
    expect(xxh32(enc.encode('Nobody inspects the spammish repetition'))).toBe(0xe2293b2f);
  });

  it('agrees with lz4js for every length 0..300 and several seeds', () => {
    const seed = 0x1234;
    console.log('seed', seed);
    const r = prng(seed);
    const data = r.bytes(300);
    for (const hashSeed of [0, 1, 0x9e3779b1, 0xffffffff]) {
      for (let n = 0; n <= 300; n++) {
        const view = data.subarray(0, n);
        expect(xxh32(view, hashSeed)).toBe(lz4jsXxh32.hash(hashSeed, view, 0, n));
      }
    }
  });

  it('hashes a subarray by its own bytes, not the underlying buffer', () => {
    const buf = Uint8Array.from({ length: 64 }, (_, i) => i);
    expect(xxh32(buf.subarray(3, 40))).toBe(xxh32(buf.slice(3, 40)));
  });
});

describe('compressBound', () => {
  it('is n + floor(n/255) + 16', () => {
    expect(compressBound(0)).toBe(16);
    expect(compressBound(254)).toBe(270);
    expect(compressBound(255)).toBe(272);
    expect(compressBound(4096)).toBe(4096 + 16 + 16);
    expect(compressBound(65536)).toBe(65536 + 257 + 16);
  });
});

describe('LZ4 block round trip', () => {
  it('round-trips every kind and size and obeys the end-of-block rules', () => {
    const seed = 20240601;
    console.log('seed', seed);
    const r = prng(seed);
    const c = new LZ4BlockCompressor();
    for (const n of SIZES) {
      for (const kind of KINDS) {
        const src = makeInput(kind, n, r);
        const block = new Uint8Array(compressBound(n));
        const len = c.compress(src, block);
        expect(len).toBeLessThanOrEqual(compressBound(n));
        checkBlockRules(block.subarray(0, len), n);
        const out = new Uint8Array(n);
        expect(decompressBlock(block.subarray(0, len), out)).toBe(n);
        expect(out).toEqual(src);
      }
    }
  });

  it('compresses what it should', () => {
    const c = new LZ4BlockCompressor();
    const dst = new Uint8Array(compressBound(65536));
    expect(c.compress(new Uint8Array(0), dst)).toBe(1);
    expect(dst[0]).toBe(0);
    expect(c.compress(new Uint8Array(4096), dst)).toBeLessThan(40);
    // Incompressible input costs exactly the literal-length overhead (same as the reference: 4114).
    const r = prng(7);
    console.log('seed', 7);
    expect(c.compress(r.bytes(4096), dst)).toBe(4114);
  });

  it('reuses one compressor across many inputs without stale matches', () => {
    const seed = 99;
    console.log('seed', seed);
    const r = prng(seed);
    const c = new LZ4BlockCompressor();
    for (let i = 0; i < 300; i++) {
      // Sizes on both sides of LARGE_INPUT: the compressor switches between its two hash tables.
      const n = [13, 100, 512, 4096, 16384, 16385, 65536][r.int(7)];
      const src = makeInput(KINDS[r.int(KINDS.length)], n, r);
      const block = new Uint8Array(compressBound(n) + r.int(8));
      const len = c.compress(src, block);
      const out = new Uint8Array(n);
      expect(decompressBlock(block.subarray(0, len), out)).toBe(n);
      expect(out).toEqual(src);
    }
  });

  it('rejects a destination smaller than compressBound', () => {
    const c = new LZ4BlockCompressor();
    expectCode(() => c.compress(new Uint8Array(100), new Uint8Array(compressBound(100) - 1)), 'LTX_INVALID_ARGUMENT');
    expectCode(() => c.compress(new Uint8Array(0), new Uint8Array(15)), 'LTX_INVALID_ARGUMENT');
  });
});

describe('LZ4 block cross-checks with lz4js', () => {
  it('lz4js decodes our blocks', () => {
    const seed = 31337;
    console.log('seed', seed);
    const r = prng(seed);
    const c = new LZ4BlockCompressor();
    for (const n of SIZES) {
      for (const kind of KINDS) {
        const src = makeInput(kind, n, r);
        const block = new Uint8Array(compressBound(n));
        const len = c.compress(src, block);
        const out = new Uint8Array(n + 64);
        expect(lz4js.decompressBlock(block, out, 0, len, 0)).toBe(n);
        expect(out.subarray(0, n)).toEqual(src);
      }
    }
  });

  it('we decode lz4js blocks', () => {
    const seed = 4242;
    console.log('seed', seed);
    const r = prng(seed);
    let decoded = 0;
    for (const n of SIZES) {
      for (const kind of KINDS) {
        const src = makeInput(kind, n, r);
        const block = new Uint8Array(compressBound(n));
        const len = lz4js.compressBlock(src, block, 0, n, new Uint32Array(1 << 16));
        if (len === 0) continue; // lz4js found no match and wrote nothing useful
        const out = new Uint8Array(n);
        expect(decompressBlock(block.subarray(0, len), out)).toBe(n);
        expect(out).toEqual(src);
        decoded++;
      }
    }
    expect(decoded).toBeGreaterThan(SIZES.length * 3);
  });
});

describe('decompressBlock rejects malformed blocks', () => {
  const bad = (bytes: number[], dstLen: number) => () => decompressBlock(Uint8Array.from(bytes), new Uint8Array(dstLen));
  const cases: Array<[string, number[], number]> = [
    ['empty input', [], 16],
    ['literals truncated', [0x50, 0x41, 0x42, 0x43], 16],
    ['literal length extension truncated', [0xf0, 0xff], 1000],
    ['match offset truncated', [0x14, 0x41, 0x01], 16],
    ['match length extension truncated', [0x1f, 0x41, 0x01, 0x00, 0xff], 1000],
    ['ends with a match, not literals', [0x14, 0x41, 0x01, 0x00], 16],
    ['offset 0', [0x14, 0x41, 0x00, 0x00, 0x50, 1, 2, 3, 4, 5], 32],
    ['offset before the start of dst', [0x14, 0x41, 0x02, 0x00, 0x50, 1, 2, 3, 4, 5], 32],
    ['offset far before the start of dst', [0x04, 0xff, 0xff, 0x50, 1, 2, 3, 4, 5], 32],
    ['literals overflow dst', [0x50, 1, 2, 3, 4, 5], 4],
    ['match overflows dst', [0x1f, 0x41, 0x01, 0x00, 0x10, 0x50, 1, 2, 3, 4, 5], 20],
  ];
  for (const [name, bytes, dstLen] of cases) {
    it(name, () => expectCode(bad(bytes, dstLen), 'LTX_BAD_PAGE_DATA'));
  }

  it('accepts the valid neighbours of those cases', () => {
    expect(decompressBlock(Uint8Array.of(0x14, 0x41, 0x01, 0x00, 0x50, 1, 2, 3, 4, 5), new Uint8Array(14))).toBe(14);
    expect(decompressBlock(Uint8Array.of(0x1f, 0x41, 0x01, 0x00, 0x10, 0x50, 1, 2, 3, 4, 5), new Uint8Array(41))).toBe(41);
    expect(decompressBlock(Uint8Array.of(0x00), new Uint8Array(0))).toBe(0);
    // The last sequence's match-length nibble is ignored (as by the reference decoder).
    expect(decompressBlock(Uint8Array.of(0x14, 0x41), new Uint8Array(16))).toBe(1);
  });

  it('rejects output overflow for real blocks (dst one byte short)', () => {
    const r = prng(5);
    console.log('seed', 5);
    const c = new LZ4BlockCompressor();
    for (const kind of KINDS) {
      const src = makeInput(kind, 4096, r);
      const block = new Uint8Array(compressBound(4096));
      const len = c.compress(src, block);
      expectCode(() => decompressBlock(block.subarray(0, len), new Uint8Array(4095)), 'LTX_BAD_PAGE_DATA');
    }
  });

  it('rejects garbage after the end of a block', () => {
    const r = prng(6);
    console.log('seed', 6);
    const c = new LZ4BlockCompressor();
    const src = makeInput('records', 4096, r);
    const block = new Uint8Array(compressBound(4096));
    const len = c.compress(src, block);
    for (const garbage of [[0x00], [0x10, 0x41], [0xff], [0x00, 0x00, 0x00], [0x04, 0x01, 0x00, 0x50, 1, 2, 3, 4, 5]]) {
      const withGarbage = new Uint8Array(len + garbage.length);
      withGarbage.set(block.subarray(0, len));
      withGarbage.set(garbage, len);
      expectCode(() => decompressBlock(withGarbage, new Uint8Array(4096)), 'LTX_BAD_PAGE_DATA');
    }
  });

  it('never decodes a strict prefix of a block to the full page', () => {
    const r = prng(8);
    console.log('seed', 8);
    const c = new LZ4BlockCompressor();
    for (const kind of KINDS) {
      const src = makeInput(kind, 1024, r);
      const block = new Uint8Array(compressBound(1024));
      const len = c.compress(src, block);
      for (let cut = 0; cut < len; cut++) {
        try {
          expect(decompressBlock(block.subarray(0, cut), new Uint8Array(1024))).toBeLessThan(1024);
        } catch (e) {
          expect(e).toBeInstanceOf(LTXError);
          expect((e as LTXError).code).toBe('LTX_BAD_PAGE_DATA');
        }
      }
    }
  });
});

describe('decompressBlock with dstStart (history before the output)', () => {
  // 0 literals, match offset 8 length 8, then 5 literals.
  const block = Uint8Array.of(0x04, 0x08, 0x00, 0x50, 1, 2, 3, 4, 5);
  it('matches may reach into the bytes before dstStart', () => {
    const dst = new Uint8Array(8 + 13);
    dst.set([10, 11, 12, 13, 14, 15, 16, 17]);
    expect(decompressBlock(block, dst, 8)).toBe(13);
    expect([...dst]).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 10, 11, 12, 13, 14, 15, 16, 17, 1, 2, 3, 4, 5]);
  });
  it('but not before index 0', () => {
    expectCode(() => decompressBlock(block, new Uint8Array(30), 7), 'LTX_BAD_PAGE_DATA');
  });
  it('a dstStart outside dst is a caller error', () => {
    for (const start of [-1, 31, 1.5, Number.NaN]) {
      expectCode(() => decompressBlock(block, new Uint8Array(30), start), 'LTX_INVALID_ARGUMENT');
    }
  });
});

describe('decompressBlock mutation fuzz', () => {
  it('only LTXError escapes and output stays within dst (20k mutated blocks)', () => {
    const seed = 0xc0ffee;
    console.log('seed', seed);
    const r = prng(seed);
    const c = new LZ4BlockCompressor();
    const pool: Array<{ src: Uint8Array; block: Uint8Array }> = [];
    for (const n of [16, 100, 512, 4096]) {
      for (const kind of KINDS) {
        const src = makeInput(kind, n, r);
        const block = new Uint8Array(compressBound(n));
        pool.push({ src, block: block.slice(0, c.compress(src, block)) });
      }
    }
    let rejected = 0;
    for (let i = 0; i < 20000; i++) {
      const { src, block } = pool[r.int(pool.length)];
      let mutated = block.slice();
      const op = r.int(4);
      if (op === 0) {
        for (let k = 1 + r.int(4); k > 0; k--) mutated[r.int(mutated.length)] ^= 1 << r.int(8);
      } else if (op === 1) {
        mutated = mutated.slice(0, r.int(mutated.length));
      } else if (op === 2) {
        for (let k = 1 + r.int(4); k > 0; k--) mutated[r.int(mutated.length)] = r.int(256);
      } else {
        const extra = r.bytes(1 + r.int(8));
        const grown = new Uint8Array(mutated.length + extra.length);
        grown.set(mutated);
        grown.set(extra, mutated.length);
        mutated = grown;
      }
      // A guard band after dst proves nothing is written past it.
      const dstLen = r.int(3) === 0 ? r.int(src.length + 2) : src.length;
      const backing = new Uint8Array(dstLen + 16).fill(0xee);
      const dst = backing.subarray(0, dstLen);
      try {
        const n = decompressBlock(mutated, dst);
        expect(n).toBeGreaterThanOrEqual(0);
        expect(n).toBeLessThanOrEqual(dstLen);
      } catch (e) {
        if (!(e instanceof LTXError)) throw e;
        expect(e.code).toBe('LTX_BAD_PAGE_DATA');
        rejected++;
      }
      expect(backing.subarray(dstLen).every((b) => b === 0xee)).toBe(true);
    }
    expect(rejected).toBeGreaterThan(1000);
  });
});
