// End to end: the real `ltx-edge push` / `import` against a real local server (wrangler dev, throwaway state).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_TOKEN, type DevServer, devFetch, startDevServer } from '../../helpers/dev-server.ts';
import { runCLI, runCLIJSON } from '../../helpers/run-cli.ts';
import { VECTORS_DIR, loadManifest } from '../../helpers/vectors.ts';

const SQLITE3 = process.env.SQLITE3 ?? 'sqlite3';
const manifest = loadManifest();
const CHAIN = manifest.files
  .filter((f) => /^block-ps4096\/[0-9a-f]{16}-[0-9a-f]{16}\.ltx$/.test(f.path))
  .sort((a, b) => a.path.localeCompare(b.path));
const chainFile = (i: number): string => path.join(VECTORS_DIR, CHAIN[i].path);

interface Pos {
  txid: string;
  postApplyChecksum: string;
}
interface PushLine {
  file: string;
  status: number;
  pos: Pos;
}
interface ErrorJSON {
  error: { code: string; message: string; status?: number; details?: { pos?: Pos }; hint?: string; file?: string };
  pushed?: PushLine[];
}

let server: DevServer;
let dir = '';
const auth = (): string[] => ['--token', DEV_TOKEN];

beforeAll(async () => {
  server = await startDevServer();
  dir = mkdtempSync(path.join(tmpdir(), 'ltx-push-import-'));
}, 60_000);

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('ltx-edge push', () => {
  it('pushes the reference chain in order, then re-pushes it harmlessly', () => {
    expect(CHAIN.length).toBeGreaterThanOrEqual(5);
    const files = CHAIN.map((_, i) => chainFile(i));
    const first = runCLIJSON<PushLine[]>(['push', server.url, 'chain', ...files, '--json', ...auth()]);
    expect(first.status, first.stderr + server.log()).toBe(0);
    expect(first.json).toEqual(
      CHAIN.map((f, i) => ({
        file: files[i],
        status: 201,
        pos: { txid: f.decoded.header.max_txid, postApplyChecksum: f.decoded.trailer.post_apply_checksum },
      })),
    );

    const head = first.json[first.json.length - 1].pos;
    const again = runCLIJSON<PushLine[]>(['push', server.url, 'chain', ...files, '--json', ...auth()]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.json.map((r) => r.status)).toEqual(files.map(() => 200));
    expect(again.json.every((r) => r.pos.txid === head.txid)).toBe(true);
  });

  it('restore --in-place writes a past state as the next TXID, and undoes it', () => {
    const files = [0, 1, 2, 3].map(chainFile);
    expect(runCLIJSON<PushLine[]>(['push', server.url, 'in-place', ...files, '--json', ...auth()]).status).toBe(0);
    const r = runCLIJSON<{ pos: { txid: string }; restoredFrom: string; pages: number }>([
      'restore',
      server.url,
      'in-place',
      '--in-place',
      '--txid',
      '2',
      '--json',
      ...auth(),
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ pos: { txid: '0000000000000005' }, restoredFrom: '0000000000000002' });
    const undo = runCLI(['restore', server.url, 'in-place', '--in-place', '--txid', '4', ...auth()]);
    expect(undo.status, undo.stderr).toBe(0);
    expect(undo.stdout).toContain('is now TXID 0000000000000006');
    expect(runCLI(['restore', server.url, 'in-place', '--in-place', ...auth()]).status).toBe(2); // needs a point
  });

  it('prints one line per file and takes URL and token from the environment', () => {
    const r = runCLI(['push', 'env-db', chainFile(0), chainFile(1)], {
      env: { LTX_EDGE_URL: server.url, LTX_EDGE_TOKEN: DEV_TOKEN },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`201 created ${chainFile(0)} → 0000000000000001\n201 created ${chainFile(1)} → 0000000000000002\n`);
    expect(r.stderr).toBe(''); // no progress bar when stderr is not a terminal
    const again = runCLI(['push', 'env-db', chainFile(1)], { env: { LTX_EDGE_URL: server.url, LTX_EDGE_TOKEN: DEV_TOKEN } });
    expect(again.stdout).toBe(`200 already committed ${chainFile(1)} → 0000000000000002\n`);
  });

  it('stops at a gap with exit 1 and POSITION_MISMATCH, after pushing what came before', () => {
    const r = runCLIJSON<ErrorJSON>(['push', server.url, 'gap', chainFile(0), chainFile(2), chainFile(3), '--json', ...auth()]);
    expect(r.status).toBe(1);
    // Decided before sending, by the server's own rule (decideIngest) against the position it reported.
    expect(r.json.error).toMatchObject({ code: 'POSITION_MISMATCH', file: chainFile(2) });
    expect(r.json.error.details?.pos).toEqual({
      txid: '0000000000000001',
      postApplyChecksum: CHAIN[0].decoded.trailer.post_apply_checksum,
    });
    expect(r.json.pushed?.map((p) => p.status)).toEqual([201]);
    expect(r.stderr).toContain('POSITION_MISMATCH');
  });

  it('does not upload a file the server would refuse on its header: not a snapshot onto an empty database', () => {
    const r = runCLIJSON<ErrorJSON>(['push', server.url, 'empty-db', chainFile(1), '--json', ...auth()]);
    expect(r.status).toBe(1);
    expect(r.json.error).toMatchObject({ code: 'POSITION_MISMATCH', details: { pos: { txid: '0000000000000000' } } });
    expect(server.log()).not.toContain('POST /v1/databases/empty-db/ltx');
  });

  it('reports a missing file before pushing anything', () => {
    const r = runCLIJSON<ErrorJSON>(['push', server.url, 'missing', chainFile(0), path.join(dir, 'nope.ltx'), '--json', ...auth()]);
    expect(r.status).toBe(1);
    expect(r.json.error.code).toBe('ENOENT');
    expect(r.json.pushed).toEqual([]);
  });

  it('passes on the server code of a refused file: INVALID_LTX, UNAUTHORIZED', () => {
    // A valid header, a corrupt page: only the server's streaming decoder can tell.
    const bad = path.join(VECTORS_DIR, 'negative/payload-bitflip.ltx');
    const invalid = runCLIJSON<ErrorJSON>(['push', server.url, 'bad', bad, '--json', ...auth()]);
    expect(invalid.status).toBe(1);
    expect(invalid.json.error).toMatchObject({ code: 'INVALID_LTX', status: 422 });

    const anon = runCLIJSON<ErrorJSON>(['push', server.url, 'anon', chainFile(0), '--json'], { env: { LTX_EDGE_TOKEN: undefined } });
    expect(anon.status).toBe(1);
    expect(anon.json.error).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
  });

  it('is a usage error (exit 2) without a URL', () => {
    const r = runCLI(['push', 'db', chainFile(0)], { env: { LTX_EDGE_URL: undefined } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('LTX_EDGE_URL');
  });
});

/** A sqlite3-made database with indexes, overflow pages and free pages (see sqlite-roundtrip.test.ts). */
function makeDatabase(file: string, pageSize: number): void {
  const sql = `
PRAGMA page_size = ${pageSize};
PRAGMA journal_mode = delete;
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE);
CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB);
CREATE INDEX users_by_name ON users (name);
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
  INSERT INTO users SELECT i, 'user ' || i, 'user' || i || '@example.com' FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20)
  INSERT INTO blobs SELECT i, randomblob(${pageSize} * 2 + 77 * i) FROM n;
COMMIT;
DELETE FROM users WHERE id % 7 = 0;
`;
  const r = spawnSync(SQLITE3, ['-bail', '-batch', file], { input: sql, encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0 || r.stderr) throw new Error(`sqlite3 exited ${r.status}: ${r.stderr}`);
}

describe('ltx-edge import', () => {
  it.each([4096, 65536])('uploads a %i-byte-page database; the stored snapshot applies to the same bytes', async (pageSize) => {
    const src = path.join(dir, `source-${pageSize}.db`);
    makeDatabase(src, pageSize);
    const size = readFileSync(src).length;
    const db = `import-${pageSize}`;
    const r = runCLIJSON<{ status: number; pos: Pos; pageSize: number; commit: number; size: number }>([
      'import',
      server.url,
      db,
      src,
      '--json',
      ...auth(),
    ]);
    expect(r.status, r.stderr + server.log()).toBe(0);
    expect(r.json).toMatchObject({ status: 201, pageSize, commit: size / pageSize, size, pos: { txid: '0000000000000001' } });

    const info = (await (await devFetch(server, `/v1/databases/${db}`)).json()) as { commit: number; pageSize: number; pos: Pos };
    expect(info).toMatchObject({ commit: size / pageSize, pageSize, pos: r.json.pos });

    const res = await devFetch(server, `/v1/databases/${db}/ltx/0000/0000000000000001-0000000000000001.ltx`);
    expect(res.status).toBe(200);
    const ltx = path.join(dir, `${db}.ltx`);
    writeFileSync(ltx, new Uint8Array(await res.arrayBuffer()));
    const out = path.join(dir, `${db}.out.db`);
    const applied = runCLIJSON<{ postApplyChecksum: string }>(['ltx', 'apply', out, ltx, '--json']);
    expect(applied.status, applied.stderr).toBe(0);
    expect(applied.json.postApplyChecksum).toBe(r.json.pos.postApplyChecksum);
    expect(Buffer.compare(readFileSync(out), readFileSync(src))).toBe(0);
  });

  it('refuses a file that is not a SQLite database', () => {
    const notDb = path.join(dir, 'not-a-db.txt');
    writeFileSync(notDb, 'hello, world\n'.repeat(1000));
    const r = runCLIJSON<ErrorJSON>(['import', server.url, 'never', notDb, '--json', ...auth()]);
    expect(r.status).toBe(1);
    expect(r.json.error.code).toBe('NOT_SQLITE');
  });

  it('refuses a file that is not a whole number of pages', () => {
    const src = path.join(dir, 'torn.db');
    makeDatabase(src, 4096);
    truncateSync(src, readFileSync(src).length - 100);
    const r = runCLIJSON<ErrorJSON>(['import', server.url, 'never', src, '--json', ...auth()]);
    expect(r.status).toBe(1);
    expect(r.json.error.code).toBe('PARTIAL_PAGE');
  });

  it('refuses a database whose WAL still holds frames, and asks for a checkpoint', () => {
    const src = path.join(dir, 'hot.db');
    const db = new DatabaseSync(src);
    try {
      db.exec('PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (x); INSERT INTO t VALUES (1), (2);');
      const r = runCLIJSON<ErrorJSON>(['import', server.url, 'never', src, '--json', ...auth()]);
      expect(r.status).toBe(1);
      expect(r.json.error.code).toBe('HOT_WAL');
      expect(r.json.error.message).toContain('wal_checkpoint');
    } finally {
      db.close();
    }
  });

  it('refuses a database that already has data, with advice (exit 1)', () => {
    const src = path.join(dir, 'again.db');
    makeDatabase(src, 4096);
    const r = runCLIJSON<ErrorJSON>(['import', server.url, 'chain', src, '--json', ...auth()]);
    expect(r.status).toBe(1);
    expect(r.json.error.code).toBe('POSITION_MISMATCH');
    expect(r.json.error.details?.pos?.txid).toBe(CHAIN[CHAIN.length - 1].decoded.header.max_txid);
    expect(r.json.error.hint).toContain('empty database');
    const human = runCLI(['import', server.url, 'chain', src, ...auth()]);
    expect(human.status).toBe(1);
    expect(human.stderr).toMatch(/not empty[\s\S]*only goes onto an empty database/);
  });
});
