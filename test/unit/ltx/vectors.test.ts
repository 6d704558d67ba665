// The reference vectors: every file decodes to the manifest, every chain applies to the manifest's database.

import { describe, expect, it } from 'vitest';
import { DatabaseState, applyLTX } from '../../../src/ltx/apply.ts';
import { formatHex64 } from '../../../src/ltx/checksum.ts';
import { LTXDecoder, decodeLTX } from '../../../src/ltx/decoder.ts';
import { LTXError } from '../../../src/ltx/errors.ts';
import { MemoryDatabase } from '../../../src/ltx/memory-database.ts';
import { decodePageFrame } from '../../../src/ltx/page-frame.ts';
import { decodePageIndexFromTail, pageIndexProbeRange } from '../../../src/ltx/page-index.ts';
import { loadManifest, readVector, sha256 } from '../../helpers/vectors.ts';
import { NEGATIVE_CODES } from '../../helpers/negative-codes.ts';

const manifest = loadManifest();

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof LTXError) return e.code;
    throw e;
  }
  return 'ACCEPTED';
}

describe('reference vectors decode to the manifest', () => {
  it.each(manifest.files.map((f) => [f.path, f] as const))('%s', (_, f) => {
    const bytes = readVector(f.path);
    const d = decodeLTX(bytes);
    const mh = f.decoded.header;
    expect({
      flags: d.header.flags,
      page_size: d.header.pageSize,
      commit: d.header.commit,
      min_txid: formatHex64(d.header.minTXID),
      max_txid: formatHex64(d.header.maxTXID),
      timestamp_ms: d.header.timestamp,
      pre_apply_checksum: formatHex64(d.header.preApplyChecksum),
      wal_offset: Number(d.header.walOffset),
      wal_size: Number(d.header.walSize),
      wal_salt1: d.header.walSalt1,
      wal_salt2: d.header.walSalt2,
      node_id: Number(d.header.nodeID),
    }).toEqual({
      flags: mh.flags,
      page_size: mh.page_size,
      commit: mh.commit,
      min_txid: mh.min_txid,
      max_txid: mh.max_txid,
      timestamp_ms: mh.timestamp_ms,
      pre_apply_checksum: mh.pre_apply_checksum,
      wal_offset: mh.wal_offset,
      wal_size: mh.wal_size,
      wal_salt1: mh.wal_salt1,
      wal_salt2: mh.wal_salt2,
      node_id: mh.node_id,
    });
    expect(d.pages.map((p) => ({ pgno: p.pgno, offset: p.offset, frame_size: p.size, sha256: sha256(p.data) }))).toEqual(
      f.decoded.pages.map((p) => ({ pgno: p.pgno, offset: p.offset, frame_size: p.frame_size, sha256: p.sha256 })),
    );
    expect(d.pages.map((p) => ({ pgno: p.pgno, offset: p.offset, size: p.size }))).toEqual(f.decoded.page_index);
    expect(formatHex64(d.trailer.postApplyChecksum)).toBe(f.decoded.trailer.post_apply_checksum);
    expect(formatHex64(d.trailer.fileChecksum)).toBe(f.decoded.trailer.file_checksum);
    expect(d.size).toBe(f.decoded.size);
  });

  it.each(manifest.files.map((f) => [f.path, f] as const))('%s streams in 1, 7 and 4093-byte chunks', (_, f) => {
    const bytes = readVector(f.path);
    for (const step of [1, 7, 4093]) {
      const dec = new LTXDecoder();
      const shas: string[] = [];
      for (let i = 0; i < bytes.length; i += step) {
        for (const p of dec.push(bytes.subarray(i, i + step))) shas.push(sha256(p.data));
      }
      expect(formatHex64(dec.end().trailer.fileChecksum)).toBe(f.decoded.trailer.file_checksum);
      expect(shas).toEqual(f.decoded.pages.map((p) => p.sha256));
    }
  });

  it.each(manifest.files.map((f) => [f.path, f] as const))('%s reads page by page from its tail index', (_, f) => {
    const bytes = readVector(f.path);
    const probe = pageIndexProbeRange(bytes.length);
    let r = decodePageIndexFromTail(bytes.subarray(probe.offset), probe.offset, bytes.length);
    if ('needOffset' in r) r = decodePageIndexFromTail(bytes.subarray(r.needOffset), r.needOffset, bytes.length);
    if (!('index' in r)) throw new Error('index not found after the second read');
    const { index } = r;
    expect(Array.from(index.pgnos)).toEqual(f.decoded.page_index.map((e) => e.pgno));
    for (let i = 0; i < index.pgnos.length; i++) {
      const frame = bytes.subarray(index.offsets[i], index.offsets[i] + index.sizes[i]);
      const page = decodePageFrame(frame, f.decoded.header.page_size);
      expect(page.pgno).toBe(index.pgnos[i]);
      expect(sha256(page.data)).toBe(f.decoded.pages[i].sha256);
    }
  });
});

describe('reference chains apply to the manifest database', () => {
  const withState = manifest.files.filter((f) => f.db_after);
  it.each(withState.map((f) => [f.path, f] as const))('%s', async (_, f) => {
    const state = new DatabaseState();
    const db = new MemoryDatabase();
    for (const rel of [...f.apply_after, f.path]) await applyLTX(state, [readVector(rel)], db);
    const after = f.db_after!;
    expect(db.pageSize).toBe(after.page_size);
    expect(db.commit).toBe(after.commit);
    expect(sha256(db.toBytes())).toBe(after.sha256);
    expect(formatHex64(state.checksum)).toBe(after.rolling_checksum);
  });

  it('the real SQLite chain reproduces the SQLite files byte for byte', async () => {
    const state = new DatabaseState();
    const db = new MemoryDatabase();
    for (const n of [1, 2, 3]) {
      await applyLTX(state, [readVector(`sqlite-ps4096/000000000000000${n}-000000000000000${n}.ltx`)], db);
      const extra = manifest.extra_files.find((e) => e.path === `sqlite-ps4096/state-txid${n}.db`)!;
      expect(sha256(db.toBytes())).toBe(extra.sha256);
      expect(sha256(readVector(extra.path))).toBe(extra.sha256);
    }
  });
});

describe('malformed vectors are rejected with a specific code', () => {
  it('every negative vector has an expected code', () => {
    expect(manifest.negative.map((n) => n.path).sort()).toEqual(Object.keys(NEGATIVE_CODES).sort());
  });
  it.each(manifest.negative.map((n) => [n.path, n] as const))('%s', (_, n) => {
    expect(codeOf(() => decodeLTX(readVector(n.path)))).toBe(NEGATIVE_CODES[n.path]);
  });
});
