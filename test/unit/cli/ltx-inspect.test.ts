// `ltx inspect`: the DESIGN §5 JSON equals what the reference decoder recorded in the vectors' manifest.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCLI, runCLIJSON } from '../../helpers/run-cli.ts';
import { type ManifestFile, VECTORS_DIR, loadManifest } from '../../helpers/vectors.ts';

const manifest = loadManifest();
const vector = (rel: string): string => path.join(VECTORS_DIR, rel);

/** The manifest records a few header fields the helper's type leaves out. */
interface FullManifestHeader {
  timestamp_iso: string;
  is_snapshot: boolean;
  no_checksum: boolean;
  lock_pgno: number;
}

/** What `inspect --json` must print for a manifest entry (the contract's fields and our extras). */
function expectedInspect(f: ManifestFile) {
  const d = f.decoded;
  const h = d.header;
  const extra = h as unknown as FullManifestHeader;
  return {
    file: vector(f.path),
    size: d.size,
    pageCount: d.pages.length,
    header: {
      flags: h.flags,
      pageSize: h.page_size,
      commit: h.commit,
      minTXID: h.min_txid,
      maxTXID: h.max_txid,
      timestamp: h.timestamp_ms,
      timestampISO: extra.timestamp_iso,
      preApplyChecksum: h.pre_apply_checksum,
      walOffset: h.wal_offset,
      walSize: h.wal_size,
      walSalt1: h.wal_salt1,
      walSalt2: h.wal_salt2,
      nodeID: h.node_id,
      isSnapshot: extra.is_snapshot,
      noChecksum: extra.no_checksum,
      lockPgno: extra.lock_pgno,
    },
    pages: d.pages.map((p) => ({
      pgno: p.pgno,
      offset: p.offset,
      size: p.frame_size,
      sha256: p.sha256,
      encoding: p.encoding === 'lz4-frame' ? 'frame' : 'block',
      checksum: p.page_checksum,
    })),
    trailer: { postApplyChecksum: d.trailer.post_apply_checksum, fileChecksum: d.trailer.file_checksum },
  };
}

const CASES: [name: string, rel: string][] = [
  ['block snapshot', 'block-ps4096/0000000000000001-0000000000000001.ltx'],
  ['legacy frame incremental', 'frame-legacy-ps4096/0000000000000002-0000000000000002.ltx'],
  ['NoChecksum with WAL fields', 'block-ps4096-nochecksum/0000000000000002-0000000000000002.ltx'],
  ['64K pages', 'block-ps65536/0000000000000001-0000000000000001.ltx'],
  ['multi-TXID with WAL fields and node ID', 'block-ps4096/0000000000000005-0000000000000007.ltx'],
  ['deletion file (commit 0, no pages)', 'block-ps4096/0000000000000008-0000000000000008.ltx'],
  ['real SQLite snapshot', 'sqlite-ps4096/0000000000000001-0000000000000001.ltx'],
];

describe('ltx inspect --json', () => {
  it.each(CASES)('%s matches the manifest', (_, rel) => {
    const f = manifest.files.find((m) => m.path === rel);
    expect(f, rel).toBeDefined();
    const r = runCLIJSON(['ltx', 'inspect', '--json', vector(rel)]);
    expect(r.status).toBe(0);
    expect(r.json).toEqual(expectedInspect(f!));
  });

  it('prints TXIDs and checksums as 16 lowercase hex digits', () => {
    const r = runCLIJSON<{ header: Record<string, unknown>; trailer: Record<string, unknown> }>([
      'ltx',
      'inspect',
      vector('block-ps4096/0000000000000002-0000000000000002.ltx'),
      '--json',
    ]);
    const { header: h, trailer: t } = r.json;
    for (const v of [h.minTXID, h.maxTXID, h.preApplyChecksum, t.postApplyChecksum, t.fileChecksum]) {
      expect(v).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  it('rejects an invalid file with exit 1 and the codec error code', () => {
    const rel = 'negative/file-checksum-bitflip.ltx';
    const r = runCLIJSON<{ error: { code: string; message: string; file: string } }>(['ltx', 'inspect', '--json', vector(rel)]);
    expect(r.status).toBe(1);
    expect(r.json.error.code).toBe('LTX_FILE_CHECKSUM_MISMATCH');
    expect(r.json.error.file).toBe(vector(rel));
    expect(r.stderr).toContain('LTX_FILE_CHECKSUM_MISMATCH');
  });

  it('reports a missing file as ENOENT, exit 1', () => {
    const r = runCLIJSON<{ error: { code: string } }>(['ltx', 'inspect', '--json', vector('no-such-file.ltx')]);
    expect(r.status).toBe(1);
    expect(r.json.error.code).toBe('ENOENT');
    expect(r.stderr).toContain('ENOENT');
  });
});

describe('ltx inspect (human output)', () => {
  it('prints a header block and a page table', () => {
    const r = runCLI(['ltx', 'inspect', vector('block-ps4096/0000000000000005-0000000000000007.ltx')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^TXIDs\s+0000000000000005-0000000000000007$/m);
    expect(r.stdout).toMatch(/^WAL offset\/size\s+32 \/ 12360$/m);
    expect(r.stdout).toMatch(/^node ID\s+3735928559$/m);
    const rows = r.stdout.split('\n').filter((l) => /^\s+\d+\s+\d+\s+\d+\s+(block|frame)\s/.test(l));
    expect(rows.map((l) => Number(l.trim().split(/\s+/)[0]))).toEqual([3, 4, 7]);
  });

  it('reports an invalid file on stderr only', () => {
    const r = runCLI(['ltx', 'inspect', vector('negative/bad-magic.ltx')]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('LTX_BAD_MAGIC');
  });
});
