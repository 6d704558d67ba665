// `ltx apply`: chains rebuild the manifest's databases byte for byte; bad chains fail and leave nothing behind.

import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCLI, runCLIJSON } from '../../helpers/run-cli.ts';
import { VECTORS_DIR, loadManifest } from '../../helpers/vectors.ts';

const manifest = loadManifest();
const vector = (rel: string): string => path.join(VECTORS_DIR, rel);
const sqlite = (n: number): string => vector(`sqlite-ps4096/${String(n).padStart(16, '0')}-${String(n).padStart(16, '0')}.ltx`);
const fileSha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

interface ApplyJSON {
  out: string;
  pageSize: number;
  commit: number;
  txid: string;
  postApplyChecksum: string;
}

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ltx-apply-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('ltx apply: the real SQLite chain', () => {
  it.each([1, 2, 3])('chain 1..%i gives state-txid%i.db', (n) => {
    const extra = manifest.extra_files.find((e) => e.path === `sqlite-ps4096/state-txid${n}.db`)!;
    const out = path.join(dir, 'out.db');
    const chain = Array.from({ length: n }, (_, i) => sqlite(i + 1));
    const r = runCLIJSON<ApplyJSON>(['ltx', 'apply', '--json', out, ...chain]);
    expect(r.status, r.stderr).toBe(0);
    expect(fileSha256(out)).toBe(extra.sha256);
    const last = manifest.files.find((f) => vector(f.path) === chain[n - 1])!;
    expect(r.json).toMatchObject({
      out,
      pageSize: 4096,
      commit: extra.size / 4096,
      txid: String(n).padStart(16, '0'),
      postApplyChecksum: last.decoded.trailer.post_apply_checksum,
    });
    expect(readdirSync(dir)).toEqual(['out.db']); // no temporary file left
  });
});

describe('ltx apply: every reference chain reaches the manifest state', () => {
  const cases = manifest.files.filter((f) => f.db_after).map((f) => [f.path, f] as const);
  it.each(cases)('%s', (_, f) => {
    const out = path.join(dir, 'out.db');
    const r = runCLIJSON<ApplyJSON>(['ltx', 'apply', '--json', out, ...[...f.apply_after, f.path].map(vector)]);
    expect(r.status, r.stderr).toBe(0);
    expect(fileSha256(out)).toBe(f.db_after!.sha256);
    expect(r.json).toMatchObject({
      pageSize: f.db_after!.page_size,
      commit: f.db_after!.commit,
      txid: f.decoded.header.max_txid,
      postApplyChecksum: f.db_after!.rolling_checksum, // the true checksum, also for NoChecksum files
    });
  });
});

describe('ltx apply: failures leave no database behind', () => {
  const CASES: [name: string, chain: string[], code: string][] = [
    ['gap in the chain', [sqlite(1), sqlite(3)], 'LTX_NOT_CONTIGUOUS'],
    ['first file not a snapshot', [sqlite(2), sqlite(3)], 'LTX_NOT_CONTIGUOUS'],
    [
      'pre-apply checksum of another database',
      [sqlite(1), vector('block-ps4096/0000000000000002-0000000000000002.ltx')],
      'LTX_PRE_APPLY_MISMATCH',
    ],
    [
      'page size change',
      [vector('block-ps512/0000000000000001-0000000000000001.ltx'), vector('block-ps4096/0000000000000002-0000000000000002.ltx')],
      'LTX_PAGE_SIZE_MISMATCH',
    ],
    ['corrupt page data', [vector('negative/payload-bitflip.ltx')], 'LTX_BAD_PAGE_DATA'],
    ['truncated snapshot (pages written before the end is seen)', [vector('negative/truncated.ltx')], 'LTX_TRUNCATED'],
    ['snapshot-wrong-postapply', [vector('negative/snapshot-wrong-postapply.ltx')], 'LTX_POST_APPLY_MISMATCH'],
    ['missing file', [sqlite(1), vector('no-such-file.ltx')], 'ENOENT'],
  ];
  it.each(CASES)('%s → %s', (_, chain, code) => {
    const out = path.join(dir, 'out.db');
    const r = runCLIJSON<{ error: { code: string; file: string } }>(['ltx', 'apply', '--json', out, ...chain]);
    expect(r.status).toBe(1);
    expect(r.json.error.code).toBe(code);
    expect(r.stderr).toContain(code);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('names the failing file', () => {
    const out = path.join(dir, 'out.db');
    const r = runCLIJSON<{ error: { file: string } }>(['ltx', 'apply', '--json', out, sqlite(1), sqlite(3)]);
    expect(r.json.error.file).toBe(sqlite(3));
  });

  it('an invalid file mid-chain fails with its own code', () => {
    const out = path.join(dir, 'out.db');
    const r = runCLIJSON<{ error: { code: string } }>([
      'ltx',
      'apply',
      '--json',
      out,
      vector('block-ps4096/0000000000000001-0000000000000001.ltx'),
      vector('negative/incr-missing-preapply.ltx'),
    ]);
    expect(r.status).toBe(1);
    expect(r.json.error.code).toBe('LTX_BAD_HEADER');
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('ltx apply: an existing out.db', () => {
  it('is refused without --force and left untouched', () => {
    const out = path.join(dir, 'out.db');
    writeFileSync(out, 'precious');
    const r = runCLIJSON<{ error: { code: string } }>(['ltx', 'apply', '--json', out, sqlite(1)]);
    expect(r.status).toBe(1);
    expect(r.json.error.code).toBe('EEXIST');
    expect(readFileSync(out, 'utf8')).toBe('precious');
    expect(readdirSync(dir)).toEqual(['out.db']);
  });

  it('is replaced with --force', () => {
    const out = path.join(dir, 'out.db');
    writeFileSync(out, 'old');
    const r = runCLI(['ltx', 'apply', '--force', out, sqlite(1)]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('TXID 0000000000000001');
    const extra = manifest.extra_files.find((e) => e.path === 'sqlite-ps4096/state-txid1.db')!;
    expect(fileSha256(out)).toBe(extra.sha256);
  });

  it('is kept when a --force apply fails', () => {
    const out = path.join(dir, 'out.db');
    writeFileSync(out, 'old');
    const r = runCLI(['ltx', 'apply', '--force', out, sqlite(1), sqlite(3)]);
    expect(r.status).toBe(1);
    expect(readFileSync(out, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['out.db']);
  });
});
