// Real SQLite files (made by the sqlite3 CLI) → snapshot LTX → decode, verify, `ltx apply` → the same bytes, integrity ok.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PageInput, databaseChecksum, decodeLTX, encodeLTX, formatHex64, lockPgno, makeHeader } from '../../../src/ltx/index.ts';
import { runCLI, runCLIJSON } from '../../helpers/run-cli.ts';

const SQLITE3 = process.env.SQLITE3 ?? 'sqlite3';
const HAVE_SQLITE = spawnSync(SQLITE3, ['-version']).status === 0;

/** Runs SQL through the sqlite3 CLI against `db`; throws with its stderr on any error. */
function sqlite(db: string, sql: string): string {
  const r = spawnSync(SQLITE3, ['-bail', '-batch', db], { input: sql, encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0 || r.stderr) throw new Error(`sqlite3 exited ${r.status}: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * A database with several tables (rowid and WITHOUT ROWID), two indexes, thousands of rows, blobs
 * larger than a page (overflow chains) and deleted rows (free pages). Blob content is random
 * (randomblob) so pages are incompressible; the assertions compare bytes, so no seed is needed.
 */
function schemaSQL(pageSize: number, journalMode: 'delete' | 'wal'): string {
  return `
PRAGMA page_size = ${pageSize};
PRAGMA journal_mode = ${journalMode};
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE, created INTEGER);
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), title TEXT, body TEXT);
CREATE TABLE attachments (id INTEGER PRIMARY KEY, post_id INTEGER, data BLOB);
CREATE TABLE kv (k TEXT PRIMARY KEY, v ANY) WITHOUT ROWID;
CREATE INDEX posts_by_user ON posts (user_id, title);
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
  INSERT INTO users SELECT i, 'user ' || i, 'user' || i || '@example.com', 1700000000 + i FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
  INSERT INTO posts SELECT i, 1 + i % 3000, 'post ' || i, hex(randomblob(20 + i % 300)) FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
  INSERT INTO attachments SELECT i, i * 7, randomblob(${pageSize} * (1 + i % 3) + 123 * i) FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
  INSERT INTO kv SELECT printf('key-%06d', i), CASE i % 3 WHEN 0 THEN i WHEN 1 THEN 'v' || i ELSE randomblob(i % 64) END FROM n;
COMMIT;
DELETE FROM posts WHERE id % 5 = 0;
DELETE FROM attachments WHERE id % 4 = 0;
${journalMode === 'wal' ? 'PRAGMA wal_checkpoint(TRUNCATE);' : ''}
`;
}

/** SQLite's page size: big-endian u16 at offset 16 of the file header, 1 meaning 65536. */
function sqlitePageSize(db: Uint8Array): number {
  const v = (db[16] << 8) | db[17];
  return v === 1 ? 65536 : v;
}

/** Every page of the file in order, the lock page left out as LTX requires. */
function pagesOf(db: Uint8Array, pageSize: number): PageInput[] {
  const commit = db.length / pageSize;
  const lock = lockPgno(pageSize);
  const pages: PageInput[] = [];
  for (let pgno = 1; pgno <= commit; pgno++) {
    if (pgno !== lock) pages.push({ pgno, data: db.subarray((pgno - 1) * pageSize, pgno * pageSize) });
  }
  return pages;
}

const CASES: [name: string, pageSize: number, mode: 'delete' | 'wal'][] = [
  ['4096-byte pages, rollback journal', 4096, 'delete'],
  ['65536-byte pages, rollback journal', 65536, 'delete'],
  ['4096-byte pages, WAL mode after a TRUNCATE checkpoint', 4096, 'wal'],
];

describe.skipIf(!HAVE_SQLITE && !process.env.CI)('SQLite file → snapshot LTX → apply', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ltx-sqlite-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(CASES)('%s', (name, wantPageSize, mode) => {
    const caseDir = mkdtempSync(path.join(dir, `${wantPageSize}-${mode}-`));
    const src = path.join(caseDir, 'source.db');
    sqlite(src, schemaSQL(wantPageSize, mode));
    expect(sqlite(src, 'PRAGMA integrity_check;')).toBe('ok');

    const db = new Uint8Array(readFileSync(src));
    const pageSize = sqlitePageSize(db);
    expect(pageSize, name).toBe(wantPageSize);
    expect(db.length % pageSize).toBe(0);
    const commit = db.length / pageSize;
    expect(new DataView(db.buffer).getUint32(28), 'in-header database size').toBe(commit);
    if (mode === 'wal') expect([db[18], db[19]], 'WAL file format bytes').toEqual([2, 2]);
    // Overflow chains exist: more pages than the rows alone would need, and blobs larger than a page.
    expect(Number(sqlite(src, `SELECT count(*) FROM attachments WHERE length(data) > ${pageSize};`))).toBeGreaterThan(10);

    const pages = pagesOf(db, pageSize);
    const ltx = encodeLTX(makeHeader({ pageSize, commit, minTXID: 1n, maxTXID: 1n, timestamp: 1700000000000 }), pages);
    const ltxPath = path.join(caseDir, '0000000000000001-0000000000000001.ltx');
    writeFileSync(ltxPath, ltx);

    // In-process decode: the same pages back, and the snapshot's checksum is the database's.
    const decoded = decodeLTX(ltx);
    expect(decoded.header).toMatchObject({ pageSize, commit, minTXID: 1n, maxTXID: 1n });
    expect(decoded.pages.map((p) => p.pgno)).toEqual(pages.map((p) => p.pgno));
    decoded.pages.forEach((p, i) => {
      expect(Buffer.from(p.data).equals(pages[i].data), `page ${p.pgno}`).toBe(true);
    });
    const checksum = databaseChecksum(pageSize, commit, (pgno) => db.subarray((pgno - 1) * pageSize, pgno * pageSize));
    expect(decoded.trailer.postApplyChecksum).toBe(checksum);

    // The CLI: verify, then apply to a new file that must be the source byte for byte.
    expect(runCLIJSON(['ltx', 'verify', '--json', ltxPath]).json).toEqual([{ file: ltxPath, ok: true }]);
    const out = path.join(caseDir, 'out.db');
    const applied = runCLIJSON(['ltx', 'apply', '--json', out, ltxPath]);
    expect(applied.status, applied.stderr).toBe(0);
    expect(applied.json).toMatchObject({ pageSize, commit, txid: '0000000000000001', postApplyChecksum: formatHex64(checksum) });
    expect(Buffer.compare(readFileSync(out), Buffer.from(db))).toBe(0);

    expect(sqlite(out, 'PRAGMA integrity_check;')).toBe('ok');
    const counts = 'SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM posts), (SELECT count(*) FROM kv);';
    expect(sqlite(out, counts)).toBe(sqlite(src, counts));
    expect(sqlite(out, 'SELECT sum(length(data)) FROM attachments;')).toBe(sqlite(src, 'SELECT sum(length(data)) FROM attachments;'));
  });

  it('a human `ltx inspect` of such a snapshot lists every page', () => {
    const src = path.join(dir, 'small.db');
    sqlite(src, 'PRAGMA page_size = 1024; CREATE TABLE t (x); INSERT INTO t VALUES (randomblob(3000));');
    const db = new Uint8Array(readFileSync(src));
    const pageSize = sqlitePageSize(db);
    const commit = db.length / pageSize;
    const ltxPath = path.join(dir, 'small.ltx');
    writeFileSync(ltxPath, encodeLTX(makeHeader({ pageSize, commit, minTXID: 1n, maxTXID: 1n }), pagesOf(db, pageSize)));
    const r = runCLI(['ltx', 'inspect', ltxPath]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^pages\\s+${commit}$`, 'm'));
    expect(r.stdout).toContain('(snapshot)');
  });
});
