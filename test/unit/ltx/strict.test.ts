// Strictness: files the lax reference decoder accepts but its encoder could never write are rejected, by code.

import { describe, expect, it } from 'vitest';
import { pageChecksum } from '../../../src/ltx/checksum.ts';
import { CHECKSUM_FLAG, EMPTY_DB_CHECKSUM, lockPgno } from '../../../src/ltx/constants.ts';
import { type DecoderLimits, decodeLTX } from '../../../src/ltx/decoder.ts';
import { LTXError } from '../../../src/ltx/errors.ts';
import { type Header, makeHeader } from '../../../src/ltx/header.ts';
import { LZ4BlockCompressor, compressBound } from '../../../src/ltx/lz4-block.ts';
import { type FileSpec, type FrameSpec, buildLTX } from '../../helpers/ltx-builder.ts';
import { encodeLZ4FrameForTest } from '../../helpers/lz4-frame-writer.ts';

const PS = 4096;
const page = (pgno: number, size = PS): Uint8Array => new Uint8Array(size).fill(pgno & 0xff);

function snapshotSpec(commit: number, override: Partial<FileSpec> = {}): FileSpec {
  const frames: FrameSpec[] = [];
  let sum = EMPTY_DB_CHECKSUM;
  for (let p = 1; p <= commit; p++) {
    frames.push({ pgno: p, data: page(p) });
    sum ^= pageChecksum(p, page(p));
  }
  return {
    header: makeHeader({ pageSize: PS, commit, minTXID: 1n, maxTXID: 1n, timestamp: 1 }),
    frames,
    postApplyChecksum: CHECKSUM_FLAG | sum,
    ...override,
  };
}

function incrementalSpec(pgnos: number[], override: Omit<Partial<FileSpec>, 'header'> & { header?: Partial<Header> } = {}): FileSpec {
  const { header, ...rest } = override;
  return {
    header: makeHeader({
      pageSize: PS,
      commit: 10,
      minTXID: 2n,
      maxTXID: 2n,
      preApplyChecksum: CHECKSUM_FLAG | 123n,
      ...header,
    }),
    frames: pgnos.map((p) => ({ pgno: p, data: page(p) })),
    postApplyChecksum: CHECKSUM_FLAG | 456n,
    ...rest,
  };
}

function compress(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(compressBound(data.length));
  return out.slice(0, new LZ4BlockCompressor().compress(data, out));
}

function codeOf(bytes: Uint8Array, limits?: Partial<DecoderLimits>): string {
  try {
    decodeLTX(bytes, limits);
    return 'ACCEPTED';
  } catch (e) {
    if (e instanceof LTXError) return e.code;
    throw e;
  }
}

describe('well-formed builder files decode', () => {
  it.each([
    ['snapshot', snapshotSpec(5)],
    ['incremental', incrementalSpec([2, 5, 9])],
    ['legacy frames', incrementalSpec([1, 3], { frames: [1, 3].map((p) => ({ pgno: p, data: page(p), legacy: true })) })],
    ['empty snapshot', snapshotSpec(0)],
  ] as const)('%s', (_, spec) => {
    expect(codeOf(buildLTX(spec))).toBe('ACCEPTED');
  });
});

const big = 65536;
const bigLock = lockPgno(big);

describe('rejected with a specific code', () => {
  const cases: [string, () => Uint8Array, string, Partial<DecoderLimits>?][] = [
    ['pages out of order', () => buildLTX(incrementalSpec([5, 2])), 'LTX_PAGE_ORDER'],
    ['duplicate page', () => buildLTX(incrementalSpec([3, 3])), 'LTX_PAGE_ORDER'],
    ['pgno beyond commit', () => buildLTX(incrementalSpec([2, 11])), 'LTX_PAGE_OUT_OF_RANGE'],
    [
      'snapshot skips a page',
      () => buildLTX({ ...snapshotSpec(5), frames: snapshotSpec(5).frames.filter((f) => f.pgno !== 3) }),
      'LTX_PAGE_ORDER',
    ],
    [
      'snapshot stops short of commit',
      () => buildLTX({ ...snapshotSpec(5), header: makeHeader({ pageSize: PS, commit: 6, minTXID: 1n, maxTXID: 1n }) }),
      'LTX_SNAPSHOT_INCOMPLETE',
    ],
    ['snapshot not starting at 1', () => buildLTX({ ...snapshotSpec(5), frames: snapshotSpec(5).frames.slice(1) }), 'LTX_PAGE_ORDER'],
    [
      'lock page present',
      () =>
        buildLTX(
          incrementalSpec([], {
            header: { pageSize: big, commit: bigLock + 2 },
            frames: [{ pgno: bigLock, data: new Uint8Array(big) }],
          }),
        ),
      'LTX_LOCK_PAGE',
    ],
    ['page number 0 with flags', () => buildLTX(incrementalSpec([2], { frames: [{ pgno: 0, data: page(0) }] })), 'LTX_BAD_PAGE_HEADER'],
    [
      'unknown page flag',
      () => buildLTX(incrementalSpec([2], { frames: [{ pgno: 2, data: page(2), flags: 0x8001 }] })),
      'LTX_BAD_PAGE_HEADER',
    ],
    [
      'block short of page size',
      () => buildLTX(incrementalSpec([], { frames: [{ pgno: 2, data: page(2), payload: compress(page(2, PS - 1)) }] })),
      'LTX_BAD_PAGE_DATA',
    ],
    [
      'block longer than page size',
      () => buildLTX(incrementalSpec([], { frames: [{ pgno: 2, data: page(2), payload: compress(page(2, PS + 1)) }] })),
      'LTX_BAD_PAGE_DATA',
    ],
    [
      'block size field over the bound',
      () => buildLTX(incrementalSpec([], { frames: [{ pgno: 2, data: page(2), payload: new Uint8Array(compressBound(PS) + 1) }] })),
      'LTX_BAD_PAGE_DATA',
    ],
    [
      'empty block',
      () => buildLTX(incrementalSpec([], { frames: [{ pgno: 2, data: page(2), payload: new Uint8Array(0) }] })),
      'LTX_BAD_PAGE_DATA',
    ],
    [
      'legacy frame with bad content checksum',
      () => {
        const f = encodeLZ4FrameForTest(page(2));
        f[f.length - 1] ^= 1;
        return buildLTX(incrementalSpec([], { frames: [{ pgno: 2, data: page(2), legacy: true, payload: f }] }));
      },
      'LTX_BAD_PAGE_DATA',
    ],
    [
      'legacy frame of the wrong length',
      () =>
        buildLTX(
          incrementalSpec([], { frames: [{ pgno: 2, data: page(2), legacy: true, payload: encodeLZ4FrameForTest(page(2, PS / 2)) }] }),
        ),
      'LTX_BAD_PAGE_DATA',
    ],
    ['reserved header byte', () => buildLTX(incrementalSpec([2], { headerPatch: [[85, 1]] })), 'LTX_RESERVED_SET'],
    ['wal size without offset', () => buildLTX(incrementalSpec([2], { header: { walSize: 4096n } })), 'LTX_BAD_HEADER'],
    ['wal salt without offset', () => buildLTX(incrementalSpec([2], { header: { walSalt1: 7 } })), 'LTX_BAD_HEADER'],
    ['negative wal offset', () => buildLTX(incrementalSpec([2], { header: { walOffset: -1n } })), 'LTX_BAD_HEADER'],
    [
      'index offset disagrees',
      () =>
        buildLTX(
          incrementalSpec([2, 5], {
            index: [
              { pgno: 2, offset: 100, size: 33 },
              { pgno: 5, offset: 134, size: 33 },
            ],
          }),
        ),
      'LTX_BAD_INDEX',
    ],
    ['index missing an entry', () => buildLTX({ ...incrementalSpec([2, 5]), index: [] }), 'LTX_BAD_INDEX'],
    ['index length field wrong', () => buildLTX(incrementalSpec([2, 5], { indexLength: 1n })), 'LTX_BAD_INDEX'],
    [
      'NoChecksum with a post-apply checksum',
      () => buildLTX(incrementalSpec([2], { header: { flags: 2, preApplyChecksum: 0n }, postApplyChecksum: CHECKSUM_FLAG | 1n })),
      'LTX_BAD_TRAILER',
    ],
    ['tracked post-apply without bit 63', () => buildLTX(incrementalSpec([2], { postApplyChecksum: 5n })), 'LTX_BAD_TRAILER'],
    [
      'NoChecksum with commit 0',
      () => buildLTX(incrementalSpec([], { header: { flags: 2, commit: 0, preApplyChecksum: 0n }, postApplyChecksum: 0n })),
      'LTX_BAD_TRAILER',
    ],
    ['commit 0 with a non-empty checksum', () => buildLTX(incrementalSpec([], { header: { commit: 0 } })), 'LTX_POST_APPLY_MISMATCH'],
    ['snapshot post-apply wrong', () => buildLTX({ ...snapshotSpec(3), postApplyChecksum: CHECKSUM_FLAG | 9n }), 'LTX_POST_APPLY_MISMATCH'],
    ['bytes after the trailer', () => buildLTX(incrementalSpec([2], { trailing: new Uint8Array(1) })), 'LTX_TRAILING_DATA'],
    ['file checksum wrong', () => buildLTX(incrementalSpec([2], { fileChecksum: CHECKSUM_FLAG })), 'LTX_FILE_CHECKSUM_MISMATCH'],
    ['empty input', () => new Uint8Array(0), 'LTX_TRUNCATED'],
    ['header only', () => buildLTX(incrementalSpec([2])).subarray(0, 100), 'LTX_TRUNCATED'],
    ['page size over the limit', () => buildLTX(incrementalSpec([2])), 'LTX_LIMIT_EXCEEDED', { maxPageSize: 2048 }],
    ['too many pages', () => buildLTX(incrementalSpec([1, 2, 3])), 'LTX_LIMIT_EXCEEDED', { maxPages: 2 }],
    [
      'decompressed bytes over the limit',
      () => buildLTX(incrementalSpec([1, 2, 3])),
      'LTX_LIMIT_EXCEEDED',
      { maxDecompressedBytes: 2 * PS },
    ],
    ['index over the limit', () => buildLTX(incrementalSpec([1, 2, 3])), 'LTX_LIMIT_EXCEEDED', { maxIndexBytes: 8 }],
  ];
  it.each(cases)('%s', (_, make, code, limits) => {
    expect(codeOf(make(), limits)).toBe(code);
  });
});
