// Mutation fuzz over the reference vectors: only the codec's typed errors escape, and nothing hangs.
// `npm test` runs 100k inputs; `npm run fuzz` runs 1M (LTX_FUZZ_INPUTS), LTX_FUZZ_SEED picks the seed.

import { describe, expect, it } from 'vitest';
import { LTXDecoder, decodeLTX } from '../../../src/ltx/decoder.ts';
import { LTXError } from '../../../src/ltx/errors.ts';
import { decodePageFrame } from '../../../src/ltx/page-frame.ts';
import { decodePageIndexFromTail } from '../../../src/ltx/page-index.ts';
import { CHECKSUM_FLAG } from '../../../src/ltx/constants.ts';
import { makeHeader } from '../../../src/ltx/header.ts';
import { type FileSpec, buildLTX } from '../../helpers/ltx-builder.ts';
import { type Prng, prng } from '../../helpers/prng.ts';
import { loadManifest, readVector } from '../../helpers/vectors.ts';

const INPUTS = Number(process.env.LTX_FUZZ_INPUTS ?? 100_000);
const SEED = Number(process.env.LTX_FUZZ_SEED ?? 0x17e5eed);
const INTERESTING = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x1000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];

const corpus = [...loadManifest().files, ...loadManifest().negative].map((f) => readVector(f.path)).filter((b) => b.length <= 64 * 1024);

function join(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function mutate(r: Prng, src: Uint8Array): Uint8Array {
  let b: Uint8Array = src.slice();
  for (let n = 1 + r.int(3); n > 0; n--) {
    const at = r.int(Math.max(1, b.length));
    switch (r.int(8)) {
      case 0:
        b[at] ^= 1 << r.int(8);
        break;
      case 1:
        b[at] = r.int(256);
        break;
      case 2:
        b = b.slice(0, at); // truncate
        break;
      case 3: {
        const ext = new Uint8Array(b.length + 1 + r.int(64)); // extend
        ext.set(b);
        ext.set(r.bytes(ext.length - b.length), b.length);
        b = ext;
        break;
      }
      case 4: {
        const len = r.int(64); // delete a range
        b = join(b.subarray(0, at), b.subarray(at + len));
        break;
      }
      case 5: {
        const len = r.int(64); // duplicate a range
        b = join(b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len));
        break;
      }
      case 6: {
        if (b.length >= 4) new DataView(b.buffer).setUint32(Math.min(at, b.length - 4), INTERESTING[r.int(INTERESTING.length)]);
        break;
      }
      default: {
        const other = corpus[r.int(corpus.length)]; // splice another file's tail
        b = join(b.subarray(0, at), other.subarray(r.int(other.length)));
      }
    }
  }
  return b;
}

/** Runs every entry point over one input; returns false if anything but an LTXError escaped. */
function exercise(r: Prng, b: Uint8Array): unknown {
  const guard = (fn: () => unknown): unknown => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof LTXError)) return e;
    }
    return undefined;
  };
  const mode = r.int(10);
  if (mode < 7) return guard(() => decodeLTX(b));
  if (mode < 9) {
    return guard(() => {
      const dec = new LTXDecoder({ maxIndexBytes: 1 << 20 });
      for (let i = 0; i < b.length; ) {
        const n = 1 + r.int(512);
        dec.push(b.subarray(i, i + n));
        i += n;
      }
      dec.end();
    });
  }
  return (
    guard(() => decodePageIndexFromTail(b, 0, b.length)) ??
    guard(() => {
      const off = r.int(b.length + 1);
      decodePageFrame(b.subarray(off, off + r.int(5000)), [512, 4096, 65536][r.int(3)]);
    })
  );
}

describe('fuzz', () => {
  it(`${INPUTS} mutated vectors raise only LTXError (seed ${SEED})`, () => {
    console.log(`fuzz seed ${SEED} (LTX_FUZZ_SEED), ${INPUTS} inputs (LTX_FUZZ_INPUTS), corpus ${corpus.length} files`);
    const r = prng(SEED);
    let accepted = 0;
    for (let i = 0; i < INPUTS; i++) {
      const input = mutate(r, corpus[r.int(corpus.length)]);
      const escaped = exercise(r, input);
      if (escaped !== undefined) {
        throw new Error(`input ${i} (seed ${SEED}) escaped with ${String(escaped)}: ${Buffer.from(input).toString('base64')}`);
      }
      if (i % 1000 === 0) accepted += guardAccepts(input);
    }
    // Almost every mutation breaks the file checksum; the decoder must notice.
    expect(accepted).toBeLessThan(INPUTS / 1000 / 2);
  }, 600_000);
});

/** A file that breaks random rules but has a correct file checksum, so the structural checks are reached. */
function structuralCase(r: Prng): Uint8Array {
  const pageSize = [512, 1024, 4096][r.int(3)];
  const snapshot = r.int(2) === 0;
  const commit = r.int(12);
  const pgnos = snapshot
    ? Array.from({ length: commit }, (_, i) => i + 1)
    : [...new Set(Array.from({ length: r.int(6) }, () => 1 + r.int(commit + 2)))].sort((a, b) => a - b);
  const page = (p: number) => (r.int(4) === 0 ? r.bytes(pageSize) : new Uint8Array(pageSize).fill(p));
  const spec: FileSpec = {
    header: makeHeader({
      pageSize,
      commit,
      minTXID: snapshot ? 1n : 2n,
      maxTXID: 2n,
      flags: r.int(3) === 0 ? 2 : 0,
      preApplyChecksum: snapshot ? 0n : CHECKSUM_FLAG | 1n,
    }),
    frames: pgnos.map((pgno) => ({ pgno, data: page(pgno), legacy: r.int(4) === 0 })),
    postApplyChecksum: CHECKSUM_FLAG | BigInt(r.int(1000)),
  };
  switch (r.int(8)) {
    case 0:
      spec.frames.reverse();
      break;
    case 1:
      spec.frames.splice(r.int(spec.frames.length + 1), 1);
      break;
    case 2:
      if (spec.frames.length) spec.frames[r.int(spec.frames.length)].pgno = r.int(commit + 3);
      break;
    case 3:
      spec.index = spec.frames.map((f, i) => ({ pgno: f.pgno, offset: 100 + i * r.int(3), size: r.int(5000) }));
      break;
    case 4:
      spec.indexLength = BigInt(r.int(100));
      break;
    case 5:
      if (spec.frames.length) spec.frames[r.int(spec.frames.length)].payload = r.bytes(r.int(64));
      break;
    case 6:
      spec.headerPatch = [[r.int(100), r.int(256)]];
      break;
    default:
      spec.postApplyChecksum = BigInt(r.int(3));
  }
  return buildLTX(spec);
}

describe('structural fuzz', () => {
  const n = Math.max(1000, Math.floor(INPUTS / 10));
  it(`${n} rule-breaking files with valid checksums raise only LTXError (seed ${SEED})`, () => {
    console.log(`structural fuzz seed ${SEED}, ${n} inputs`);
    const r = prng(SEED ^ 0x5eed);
    const codes = new Set<string>();
    for (let i = 0; i < n; i++) {
      const input = structuralCase(r);
      try {
        decodeLTX(input);
      } catch (e) {
        if (!(e instanceof LTXError)) throw new Error(`input ${i} (seed ${SEED}) escaped with ${String(e)}`);
        codes.add(e.code);
      }
    }
    // The cases reach deep checks, not just the first bytes.
    for (const c of ['LTX_PAGE_ORDER', 'LTX_BAD_INDEX', 'LTX_BAD_PAGE_DATA', 'LTX_BAD_TRAILER']) expect(codes).toContain(c);
  }, 600_000);
});

function guardAccepts(b: Uint8Array): number {
  try {
    decodeLTX(b);
    return 1;
  } catch {
    return 0;
  }
}
