// Legacy per-page LZ4 frames: lz4FrameLength, decodeLZ4Frame, the test writer, and their rejections.

import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { LTXError } from '../../../src/ltx/errors.ts';
import { compressBound, LZ4BlockCompressor } from '../../../src/ltx/lz4-block.ts';
import { decodeLZ4Frame, lz4FrameLength } from '../../../src/ltx/lz4-frame.ts';
import { xxh32 } from '../../../src/ltx/xxh32.ts';
import { encodeLZ4FrameForTest } from '../../helpers/lz4-frame-writer.ts';
import { prng } from '../../helpers/prng.ts';

interface Lz4js {
  compress(src: Uint8Array): Uint8Array;
  decompress(src: Uint8Array, maxSize?: number): Uint8Array;
}
const lz4js = createRequire(import.meta.url)('lz4js') as Lz4js;

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

const lengthOf = (frame: Uint8Array, maxLength?: number): number =>
  lz4FrameLength(
    (i) => {
      if (i < 0 || i >= frame.length) throw new Error(`read out of range: ${i}`);
      return frame[i];
    },
    frame.length,
    maxLength,
  );

const decode = (frame: Uint8Array, n: number): Uint8Array => {
  const out = new Uint8Array(n);
  decodeLZ4Frame(frame, out);
  return out;
};

const u32le = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];

interface BlockSpec {
  /** Raw block bytes as stored in the frame (compressed or not). */
  bytes: Uint8Array;
  stored: boolean;
}
/** Builds an arbitrary frame: FLG/BD as given, optional content size, blocks, end mark, checksums. */
function buildFrame(opts: {
  flg: number;
  bd?: number;
  contentSize?: number;
  blocks: BlockSpec[];
  content: Uint8Array;
  headerChecksum?: number;
}): Uint8Array {
  const desc = [opts.flg, opts.bd ?? 0x40];
  if (opts.flg & 0x08) desc.push(...u32le(opts.contentSize ?? opts.content.length), 0, 0, 0, 0);
  const hc = opts.headerChecksum ?? (xxh32(Uint8Array.from(desc)) >>> 8) & 0xff;
  const out = [0x04, 0x22, 0x4d, 0x18, ...desc, hc];
  for (const b of opts.blocks) {
    out.push(...u32le(b.stored ? (b.bytes.length | 0x80000000) >>> 0 : b.bytes.length), ...b.bytes);
    if (opts.flg & 0x10) out.push(...u32le(xxh32(b.bytes)));
  }
  out.push(0, 0, 0, 0);
  if (opts.flg & 0x04) out.push(...u32le(xxh32(opts.content)));
  return Uint8Array.from(out);
}

function compressed(data: Uint8Array): BlockSpec {
  const dst = new Uint8Array(compressBound(data.length));
  return { bytes: dst.slice(0, new LZ4BlockCompressor().compress(data, dst)), stored: false };
}

const page = (n: number, seed: number): Uint8Array => {
  const r = prng(seed);
  const p = new Uint8Array(n);
  for (let i = 0; i < n; i += 64) p.set(new TextEncoder().encode(`row ${i}|name ${r.int(20)}|`).subarray(0, n - i), i);
  return p;
};

describe('encodeLZ4FrameForTest writes frames like pierrec/lz4', () => {
  it('FLG 0x64, BD 0x40, one compressed block, content checksum', () => {
    const data = page(4096, 1);
    const frame = encodeLZ4FrameForTest(data);
    expect([...frame.subarray(0, 6)]).toEqual([0x04, 0x22, 0x4d, 0x18, 0x64, 0x40]);
    expect(frame[6]).toBe((xxh32(Uint8Array.of(0x64, 0x40)) >>> 8) & 0xff);
    expect(frame.length).toBeLessThan(4096);
    expect(lengthOf(frame)).toBe(frame.length);
    expect(decode(frame, 4096)).toEqual(data);
  });

  it('a random 64 KiB page becomes one stored block of size 0x80010000 (19 bytes overhead)', () => {
    const seed = 64;
    console.log('seed', seed);
    const data = prng(seed).bytes(65536);
    const frame = encodeLZ4FrameForTest(data);
    expect(frame.length).toBe(65536 + 19);
    expect([...frame.subarray(7, 11)]).toEqual([0x00, 0x00, 0x01, 0x80]);
    expect(lengthOf(frame)).toBe(frame.length);
    expect(decode(frame, 65536)).toEqual(data);
  });

  it('stored: true forces a stored block; every page size round-trips', () => {
    for (let n = 512; n <= 65536; n *= 2) {
      const data = page(n, n);
      for (const stored of [false, true]) {
        const frame = encodeLZ4FrameForTest(data, { stored });
        if (stored) expect(frame.length).toBe(n + 19);
        expect(lengthOf(frame)).toBe(frame.length);
        expect(decode(frame, n)).toEqual(data);
      }
    }
  });

  it('lz4js reads our frames, and we read lz4js frames (linked blocks, BD 4 MiB)', () => {
    const seed = 77;
    console.log('seed', seed);
    const r = prng(seed);
    for (const data of [page(4096, 2), r.bytes(4096), new Uint8Array(65536)]) {
      expect(lz4js.decompress(encodeLZ4FrameForTest(data), data.length)).toEqual(data);
      const theirs = lz4js.compress(data);
      expect(lengthOf(theirs)).toBe(theirs.length);
      expect(decode(theirs, data.length)).toEqual(data);
    }
  });
});

describe('frame options', () => {
  const data = page(4096, 3);
  const cases: Array<[string, Parameters<typeof buildFrame>[0]]> = [
    ['no checksums at all', { flg: 0x60, blocks: [compressed(data)], content: data }],
    ['block checksums', { flg: 0x74, blocks: [compressed(data)], content: data }],
    ['content size', { flg: 0x6c, blocks: [compressed(data)], content: data }],
    ['block max 4 MiB', { flg: 0x64, bd: 0x70, blocks: [compressed(data)], content: data }],
    [
      'several blocks, mixed stored and compressed',
      {
        flg: 0x7c,
        blocks: [compressed(data.subarray(0, 1000)), { bytes: data.slice(1000, 3000), stored: true }, compressed(data.subarray(3000))],
        content: data,
      },
    ],
  ];
  for (const [name, spec] of cases) {
    it(name, () => {
      const frame = buildFrame(spec);
      expect(lengthOf(frame)).toBe(frame.length);
      for (let available = 0; available < frame.length; available++) {
        expect(lz4FrameLength((i) => frame[i], available)).toBe(-1);
      }
      expect(decode(frame, data.length)).toEqual(data);
    });
  }

  // Block 2 copies 8 bytes from the end of block 1: fine for linked blocks, invalid if independent.
  const block1 = Uint8Array.from({ length: 16 }, (_, i) => 0x41 + i);
  const block2 = Uint8Array.of(0x04, 0x08, 0x00, 0x50, 1, 2, 3, 4, 5);
  const linkedContent = Uint8Array.from([...block1, ...block1.subarray(8), 1, 2, 3, 4, 5]);
  it('linked blocks may reference the previous block', () => {
    const frame = buildFrame({
      flg: 0x44,
      blocks: [
        { bytes: block1, stored: true },
        { bytes: block2, stored: false },
      ],
      content: linkedContent,
    });
    expect(decode(frame, linkedContent.length)).toEqual(linkedContent);
  });
  it('independent blocks may not', () => {
    const frame = buildFrame({
      flg: 0x64,
      blocks: [
        { bytes: block1, stored: true },
        { bytes: block2, stored: false },
      ],
      content: linkedContent,
    });
    expectCode(() => decode(frame, linkedContent.length), 'LTX_BAD_PAGE_DATA');
  });

  it('an empty frame decodes to zero bytes', () => {
    const frame = encodeLZ4FrameForTest(new Uint8Array(0));
    expect(frame.length).toBe(15);
    expect(lengthOf(frame)).toBe(15);
    expect(decode(frame, 0)).toEqual(new Uint8Array(0));
  });
});

describe('lz4FrameLength rejects', () => {
  const good = encodeLZ4FrameForTest(page(4096, 4));
  const withByte = (i: number, v: number): Uint8Array => {
    const f = good.slice();
    f[i] = v;
    return f;
  };
  const withHeader = (flg: number, bd: number): Uint8Array => {
    const f = good.slice();
    f[4] = flg;
    f[5] = bd;
    f[6] = (xxh32(Uint8Array.of(flg, bd)) >>> 8) & 0xff;
    return f;
  };
  const cases: Array<[string, Uint8Array]> = [
    ['bad magic', withByte(0, 0x05)],
    ['skippable-frame magic', Uint8Array.from([0x50, 0x2a, 0x4d, 0x18, ...good.subarray(4)])],
    ['bad header checksum', withByte(6, good[6] ^ 1)],
    ['version 00', withHeader(0x24, 0x40)],
    ['version 10', withHeader(0xa4, 0x40)],
    ['reserved FLG bit', withHeader(0x66, 0x40)],
    ['dictionary ID', withHeader(0x65, 0x40)],
    ['reserved BD bit 7', withHeader(0x64, 0xc0)],
    ['reserved BD low bits', withHeader(0x64, 0x41)],
    ['block max size code 3', withHeader(0x64, 0x30)],
    ['block larger than the block max', Uint8Array.from([...good.subarray(0, 7), ...u32le(0x10001), ...new Uint8Array(0x10001 + 8)])],
    [
      'stored block larger than the block max',
      Uint8Array.from([...good.subarray(0, 7), ...u32le(0x80010001), ...new Uint8Array(0x10001 + 8)]),
    ],
  ];
  for (const [name, frame] of cases) {
    it(name, () => {
      expectCode(() => lengthOf(frame, 1 << 20), 'LTX_BAD_PAGE_DATA');
      expectCode(() => decode(frame, 4096), 'LTX_BAD_PAGE_DATA');
    });
  }

  it('a frame longer than maxLength, as soon as that is known', () => {
    const big = encodeLZ4FrameForTest(prng(9).bytes(65536));
    expect(lengthOf(big, big.length)).toBe(big.length);
    expectCode(() => lengthOf(big, big.length - 1), 'LTX_BAD_PAGE_DATA');
    // Only the header and first size word are there: already too long for a 4 KiB page + slack.
    expectCode(() => lz4FrameLength((i) => big[i], 11, 4096 + 19), 'LTX_BAD_PAGE_DATA');
    expect(lz4FrameLength((i) => big[i], 11, 65536 + 19)).toBe(-1);
    // Endless blocks hit the default limit without reading their data.
    const hostile = (i: number): number => (i < 7 ? good[i] : (i - 7) % (0x10000 + 4) === 2 ? 0x01 : 0);
    expectCode(() => lz4FrameLength(hostile, 1e9), 'LTX_BAD_PAGE_DATA');
  });
});

describe('decodeLZ4Frame rejects', () => {
  const data = page(4096, 5);
  const good = encodeLZ4FrameForTest(data);
  const stored = encodeLZ4FrameForTest(data, { stored: true });

  it('bad content checksum', () => {
    const f = good.slice();
    f[f.length - 1] ^= 0x80;
    expectCode(() => decode(f, 4096), 'LTX_BAD_PAGE_DATA');
  });
  it('bad block checksum', () => {
    const f = buildFrame({ flg: 0x74, blocks: [compressed(data)], content: data });
    f[f.length - 9] ^= 1;
    expectCode(() => decode(f, 4096), 'LTX_BAD_PAGE_DATA');
  });
  it('content shorter than dst', () => {
    expectCode(() => decode(good, 4097), 'LTX_BAD_PAGE_DATA');
    expectCode(() => decode(stored, 4097), 'LTX_BAD_PAGE_DATA');
  });
  it('content longer than dst', () => {
    expectCode(() => decode(good, 4095), 'LTX_BAD_PAGE_DATA');
    expectCode(() => decode(stored, 4095), 'LTX_BAD_PAGE_DATA');
  });
  it('content size field disagrees with dst', () => {
    const f = buildFrame({ flg: 0x6c, contentSize: 4095, blocks: [compressed(data)], content: data });
    expectCode(() => decode(f, 4096), 'LTX_BAD_PAGE_DATA');
  });
  it('corrupt block data', () => {
    const f = good.slice();
    f[11] = 0xff;
    f[12] = 0xff;
    expectCode(() => decode(f, 4096), 'LTX_BAD_PAGE_DATA');
  });
  it('every truncation', () => {
    for (const frame of [good, stored]) {
      for (let cut = 0; cut < frame.length; cut++) {
        expectCode(() => decode(frame.subarray(0, cut), 4096), 'LTX_BAD_PAGE_DATA');
        expect(lz4FrameLength((i) => frame[i], cut)).toBe(-1);
      }
    }
  });
  it('trailing bytes after the frame', () => {
    const f = new Uint8Array(good.length + 1);
    f.set(good);
    expectCode(() => decode(f, 4096), 'LTX_BAD_PAGE_DATA');
    expect(lz4FrameLength((i) => f[i], f.length)).toBe(good.length);
  });
});

describe('frame mutation fuzz', () => {
  it('only LTXError escapes (5k mutated frames)', () => {
    const seed = 0xf00d;
    console.log('seed', seed);
    const r = prng(seed);
    const data = page(4096, 6);
    const pool = [
      encodeLZ4FrameForTest(data),
      encodeLZ4FrameForTest(data, { stored: true }),
      buildFrame({ flg: 0x7c, blocks: [compressed(data)], content: data }),
    ];
    for (let i = 0; i < 5000; i++) {
      const f = pool[r.int(pool.length)].slice();
      // Mostly the header and first block bytes, where the structure is; sometimes anywhere.
      for (let k = 1 + r.int(3); k > 0; k--) f[r.int(r.int(2) === 0 ? 40 : f.length)] ^= 1 << r.int(8);
      const cut = f.subarray(0, r.int(2) === 0 ? f.length : r.int(f.length + 1));
      for (const fn of [() => lz4FrameLength((j) => cut[j], cut.length, 8192), () => decode(cut, 4096)]) {
        try {
          const n = fn();
          if (typeof n === 'number') expect(n).toBeLessThanOrEqual(cut.length);
        } catch (e) {
          if (!(e instanceof LTXError)) throw e;
          expect(e.code).toBe('LTX_BAD_PAGE_DATA');
        }
      }
    }
  });
});
