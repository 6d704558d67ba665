// A restart after the database changed while the agent was down takes the whole-database diff path: exactly the changed pages, the server's checksum, the local file byte for byte (VACUUM, shrinks, 512/65536-byte pages, past the lock page).
//
// Each round: the agent is closed, the database is changed (in this process with node:sqlite, or by a
// Python application that keeps its connection and WAL open across the restart), the agent starts again
// and syncs once. The expectations are computed independently of the agent, from two images of the
// database as SQLite reads it (databaseImage: a copy checkpointed by SQLite itself) before and after;
// for the database past the lock page (1 GiB: no in-memory images), from the main file's page checksums.

import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdtempSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Replicator } from '../../../src/agent/replicator.ts';
import type { AgentEvent } from '../../../src/agent/replicator-options.ts';
import { CHECKSUM_FLAG, databaseChecksum, formatHex64, pageChecksum } from '../../../src/ltx/index.ts';
import { ApiClient } from '../../../src/remote/http-client.ts';
import { databaseImage, sha256 } from '../../helpers/agent-workload.ts';
import { DEV_TOKEN, type DevServer, devFetch, startDevServer } from '../../helpers/dev-server.ts';
import { type Prng, prng } from '../../helpers/prng.ts';
import { PythonApp } from '../../helpers/python-app.ts';

const SEED = Number(process.env.LTX_DIFF_SEED ?? 1717);

let server: DevServer;
let dir: string;
const apps: PythonApp[] = [];

beforeAll(async () => {
  console.log(`replicate-diff seed ${SEED} (LTX_DIFF_SEED)`);
  // Room for the database past the lock page (more than wrangler.toml's 1 GiB).
  server = await startDevServer({ vars: { LTX_EDGE_MAX_DATABASE_BYTES: '2GiB' } });
  dir = mkdtempSync(path.join(tmpdir(), 'ltx-agent-diff-'));
}, 120_000);

afterAll(async () => {
  for (const a of apps) await a.exit();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The page SQLite never uses: the one holding byte offset 2^30 (written out here, not taken from src/ltx). */
const lockPage = (pageSize: number): number => 2 ** 30 / pageSize + 1;

/** Page `pgno` of a database image. */
const pageOf = (image: Uint8Array, pageSize: number, pgno: number): Uint8Array => image.subarray((pgno - 1) * pageSize, pgno * pageSize);

/** The post-apply checksum of a database image, by the codec's whole-database helper. */
function imageChecksum(image: Uint8Array, pageSize: number): bigint {
  return databaseChecksum(pageSize, image.length / pageSize, (pgno) => pageOf(image, pageSize, pgno));
}

/** The pages a diff from `before` to `after` must carry: those whose bytes differ, and every page past the old end (never the lock page). */
function changedPages(before: Uint8Array, after: Uint8Array, pageSize: number): number[] {
  const out: number[] = [];
  const oldCommit = before.length / pageSize;
  for (let pgno = 1; pgno <= after.length / pageSize; pgno++) {
    if (pgno === lockPage(pageSize)) continue;
    const a = pageOf(after, pageSize, pgno);
    if (pgno > oldCommit || Buffer.compare(pageOf(before, pageSize, pgno), a) !== 0) out.push(pgno);
  }
  return out;
}

/**
 * A database of `rows` rows of `rowBytes` seeded bytes in `t` (a rowid table, no index: appends
 * split only its rightmost leaf), then a table `tail` of one row created last, so that its root is
 * the last page of the file. WAL mode, closed (its WAL checkpointed away).
 */
function seedDatabase(
  file: string,
  r: Prng,
  o: { pageSize: number; rows: number; rowBytes: number; autoVacuum?: 'NONE' | 'FULL' | 'INCREMENTAL' },
): void {
  const db = new DatabaseSync(file);
  try {
    db.exec(`PRAGMA page_size = ${o.pageSize}; PRAGMA auto_vacuum = ${o.autoVacuum ?? 'NONE'}; PRAGMA journal_mode = WAL;`);
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)');
    db.exec('BEGIN');
    const ins = db.prepare('INSERT INTO t (id, v) VALUES (?, ?)');
    for (let id = 1; id <= o.rows; id++) ins.run(id, r.bytes(o.rowBytes));
    db.exec('COMMIT');
    db.exec('CREATE TABLE tail (v BLOB NOT NULL)');
    db.prepare('INSERT INTO tail (v) VALUES (?)').run(r.bytes(32));
    expect(db.prepare('PRAGMA page_size').get()).toEqual({ page_size: o.pageSize });
  } finally {
    db.close();
  }
}

/** Runs `fn` on the database through a node:sqlite connection of this process (only while no agent holds it), then closes it. */
function withDatabase<T>(file: string, fn: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(file);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

const pageCount = (db: DatabaseSync): number => (db.prepare('PRAGMA page_count').get() as { page_count: number }).page_count;

/** An agent of this process on `file`, recording its events. */
function newAgent(file: string, db: string, events: AgentEvent[]): Replicator {
  return new Replicator({ file, db, client: new ApiClient({ url: server.url, token: DEV_TOKEN }), onEvent: (e) => events.push(e) });
}

/** The server's head: position and size. */
async function serverInfo(db: string): Promise<{ pos: { txid: string; postApplyChecksum: string }; pageSize: number; commit: number }> {
  const res = await devFetch(server, `/v1/databases/${db}`);
  expect(res.status).toBe(200);
  return (await res.json()) as never;
}

/** The server's head as a SQLite file. */
async function serverSnapshot(db: string): Promise<Uint8Array> {
  const res = await devFetch(server, `/v1/databases/${db}/snapshot`);
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

/** The server holds `image` exactly: its checksum (the codec's, over the image's pages), its size, its bytes. */
async function expectServerHolds(db: string, image: Uint8Array, pageSize: number): Promise<void> {
  const info = await serverInfo(db);
  expect({ pageSize: info.pageSize, commit: info.commit, checksum: info.pos.postApplyChecksum }).toEqual({
    pageSize,
    commit: image.length / pageSize,
    checksum: formatHex64(imageChecksum(image, pageSize)),
  });
  const snapshot = await serverSnapshot(db);
  expect(snapshot.length).toBe(image.length);
  expect(sha256(snapshot)).toBe(sha256(image));
}

/** The first replication: a snapshot of the whole database, then the agent is closed. */
async function replicateFirst(file: string, db: string, pageSize: number): Promise<void> {
  const events: AgentEvent[] = [];
  const agent = newAgent(file, db, events);
  try {
    await agent.start();
    await agent.sync();
  } finally {
    await agent.close();
  }
  expect(events.map((e) => (e.event === 'start' ? `start ${e.action}` : e.event === 'push' ? `push ${e.reason}` : e.event))).toEqual([
    'start snapshot',
    'push snapshot',
  ]);
  await expectServerHolds(db, databaseImage(file, `${file}.image`), pageSize);
}

interface DiffRound {
  before: Uint8Array;
  after: Uint8Array;
  /** Pages in the diff pushed. */
  pages: number;
  /** The pages that changed (expected in the diff). */
  changed: number[];
  oldCommit: number;
  newCommit: number;
}

/** A restart's events: started with a diff, one push of it (the next TXID, no SQLite transactions), no rescan. Returns its page count. */
function expectOneDiff(events: AgentEvent[], pageSize: number, commit: number, txidBefore: bigint): number {
  const start = events.find((e) => e.event === 'start');
  expect(start).toMatchObject({ event: 'start', action: 'diff', pageSize, commit });
  const pushes = events.flatMap((e) => (e.event === 'push' ? [e] : []));
  expect(pushes.map((p) => ({ reason: p.reason, txid: p.txid, commits: p.commits }))).toEqual([
    { reason: 'diff', txid: txidBefore + 1n, commits: 0 },
  ]);
  expect(events.filter((e) => e.event === 'rescan')).toEqual([]);
  return pushes[0].pages;
}

/** The server's head TXID. */
async function serverTXID(db: string): Promise<bigint> {
  return BigInt(`0x${(await serverInfo(db)).pos.txid}`);
}

/**
 * One round: `change` runs while the agent is down; the agent starts again and syncs. Asserts the
 * restart took the diff path, pushed exactly the changed pages in one push, and that the server's
 * head is the database as SQLite reads it (checksum, size, bytes). `during` runs while the restarted
 * agent still holds the database (before it is closed).
 */
async function diffRound(
  file: string,
  db: string,
  pageSize: number,
  change: () => unknown,
  during?: (round: DiffRound) => unknown,
): Promise<DiffRound> {
  const scratch = `${file}.image`;
  const before = databaseImage(file, scratch);
  const txidBefore = await serverTXID(db);
  await change();
  const after = databaseImage(file, scratch);
  const changed = changedPages(before, after, pageSize);
  const events: AgentEvent[] = [];
  const agent = newAgent(file, db, events);
  try {
    await agent.start();
    await agent.sync();
    const round: DiffRound = {
      before,
      after,
      pages: -1,
      changed,
      oldCommit: before.length / pageSize,
      newCommit: after.length / pageSize,
    };
    round.pages = expectOneDiff(events, pageSize, round.newCommit, txidBefore);
    expect(round.pages).toBe(changed.length);
    // The agent's position is the server's, and both are the checksum of the pages SQLite reads.
    expect(formatHex64(agent.position.checksum)).toBe(formatHex64(imageChecksum(after, pageSize)));
    await expectServerHolds(db, after, pageSize);
    await during?.(round);
    return round;
  } finally {
    await agent.close();
  }
}

/** A Python application (its own process and SQLite build) on `file`, its automatic checkpoints off: what it commits stays in its WAL. */
async function openApp(file: string): Promise<PythonApp> {
  const a = new PythonApp();
  apps.push(a);
  await a.open(file);
  await a.exec('PRAGMA wal_autocheckpoint = 0');
  return a;
}

describe('VACUUM after deleting most rows', () => {
  it('the application closed (its checkpoint truncated the file): the diff shrinks the server to the new end, nothing past it lingers', async () => {
    const pageSize = 4096;
    const file = path.join(dir, 'vacuum.db');
    const db = 'diff-vacuum';
    seedDatabase(file, prng(SEED), { pageSize, rows: 2_000, rowBytes: 300 });
    await replicateFirst(file, db, pageSize);
    const round = await diffRound(file, db, pageSize, () =>
      withDatabase(file, (d) => {
        d.exec('DELETE FROM t WHERE id % 10 != 0');
        d.exec('VACUUM');
      }),
    );
    expect(round.newCommit).toBeLessThan(round.oldCommit / 4);
    expect(statSync(file).size).toBe(round.after.length);
  });

  it('the application still open, the VACUUM only in its WAL (the main file still the old size): the diff reads the new end from the WAL', async () => {
    const pageSize = 4096;
    const file = path.join(dir, 'vacuum-wal.db');
    const db = 'diff-vacuum-wal';
    seedDatabase(file, prng(SEED + 1), { pageSize, rows: 2_000, rowBytes: 300 });
    await replicateFirst(file, db, pageSize);
    const app = await openApp(file);
    const round = await diffRound(
      file,
      db,
      pageSize,
      async () => {
        await app.exec('DELETE FROM t WHERE id % 10 != 0');
        await app.exec('VACUUM');
      },
      // While the agent holds it: the pages past the new end are still in the main file.
      (r) => expect(statSync(file).size).toBe(r.before.length),
    );
    expect(round.newCommit).toBeLessThan(round.oldCommit / 4);
    await app.close();
    expect(statSync(file).size).toBe(round.after.length);
  });
});

describe('shrinks without a VACUUM rewrite', () => {
  it('auto_vacuum = FULL: deletes move pages down and truncate the file at the commit; the diff carries the moved pages only', async () => {
    const pageSize = 4096;
    const file = path.join(dir, 'autovacuum-full.db');
    const db = 'diff-autovacuum-full';
    seedDatabase(file, prng(SEED + 2), { pageSize, rows: 1_500, rowBytes: 300, autoVacuum: 'FULL' });
    expect(withDatabase(file, (d) => d.prepare('PRAGMA auto_vacuum').get())).toEqual({ auto_vacuum: 1 });
    await replicateFirst(file, db, pageSize);
    const round = await diffRound(file, db, pageSize, () => withDatabase(file, (d) => d.exec('DELETE FROM t WHERE id > 1200')));
    expect(round.newCommit).toBeLessThan(round.oldCommit);
    expect(round.pages).toBeLessThan(round.newCommit);
    expect(statSync(file).size).toBe(round.after.length);
  });

  it('auto_vacuum = INCREMENTAL: incremental_vacuum(N) gives back exactly N pages, in the WAL of an open application; the diff is small', async () => {
    const pageSize = 4096;
    const file = path.join(dir, 'autovacuum-incremental.db');
    const db = 'diff-autovacuum-incremental';
    seedDatabase(file, prng(SEED + 3), { pageSize, rows: 1_500, rowBytes: 300, autoVacuum: 'INCREMENTAL' });
    // Free pages in the middle of the file, replicated: the file keeps its size.
    withDatabase(file, (d) => d.exec('DELETE FROM t WHERE id BETWEEN 300 AND 700'));
    const free = withDatabase(file, (d) => d.prepare('PRAGMA freelist_count').get() as { freelist_count: number }).freelist_count;
    expect(free).toBeGreaterThan(20);
    await replicateFirst(file, db, pageSize);
    const app = await openApp(file);
    // executescript: Python's execute steps a statement without result columns only once (one page).
    const round = await diffRound(file, db, pageSize, () => app.script('PRAGMA incremental_vacuum(10)'));
    expect(round.newCommit).toBe(round.oldCommit - 10);
    expect(round.pages).toBeLessThan(round.newCommit / 4);
    await app.close();
    expect(statSync(file).size).toBe(round.after.length);
  });
});

describe.each([
  // SQLite's smallest and largest page sizes; rows sized so that a leaf holds a few (512) or dozens (65536).
  { pageSize: 512, rows: 400, rowBytes: 100 },
  { pageSize: 65536, rows: 400, rowBytes: 1_500 },
])('$pageSize-byte pages', ({ pageSize, rows, rowBytes }) => {
  it('the last page changed, then one page more, then a VACUUM shrink: each restart pushes exactly the changed pages', async () => {
    const r = prng(SEED + pageSize);
    const file = path.join(dir, `sizes-${pageSize}.db`);
    const db = `diff-sizes-${pageSize}`;
    seedDatabase(file, r, { pageSize, rows, rowBytes });
    await replicateFirst(file, db, pageSize);

    // The root of `tail`, created last, is the last page: an update of its row changes that page.
    const last = await diffRound(file, db, pageSize, () =>
      withDatabase(file, (d) => {
        const { rootpage } = d.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 'tail'").get() as { rootpage: number };
        expect(rootpage).toBe(pageCount(d));
        d.prepare('UPDATE tail SET v = ?').run(r.bytes(32));
      }),
    );
    expect(last.newCommit).toBe(last.oldCommit);
    expect(last.changed).toContain(last.newCommit);
    expect(last.pages).toBeLessThan(last.newCommit);

    // Appends to `t` until its rightmost leaf splits: one new page at the end.
    const grown = await diffRound(file, db, pageSize, () =>
      withDatabase(file, (d) => {
        const n = pageCount(d);
        const ins = d.prepare('INSERT INTO t (v) VALUES (?)');
        while (pageCount(d) === n) ins.run(r.bytes(rowBytes));
        expect(pageCount(d)).toBe(n + 1);
      }),
    );
    expect(grown.newCommit).toBe(grown.oldCommit + 1);
    expect(grown.changed).toContain(grown.newCommit);
    expect(grown.pages).toBeLessThan(grown.newCommit);

    const shrunk = await diffRound(file, db, pageSize, () =>
      withDatabase(file, (d) => {
        d.exec('DELETE FROM t WHERE id % 4 != 0');
        d.exec('VACUUM');
      }),
    );
    expect(shrunk.newCommit).toBeLessThan(shrunk.oldCommit / 2);
    expect(statSync(file).size).toBe(shrunk.after.length);
    expect(withDatabase(file, (d) => d.prepare('PRAGMA integrity_check').get())).toEqual({ integrity_check: 'ok' });
  });
});

describe('a real SQLite database past the lock page (65536-byte pages: 1 GiB and a few pages, sparse on disk)', () => {
  const pageSize = 65_536;
  const LOCK = lockPage(pageSize);

  /**
   * Two rows of 512 MiB of zeros (overflow pages 3 … past the lock page), then a table `t` of seeded
   * rows whose pages all lie past it. SQLite writes every page once (from the page cache: fast); the
   * copy with `cp --sparse=always` then leaves only the non-zero blocks on disk (~70 MB).
   */
  function bigDatabase(file: string, r: Prng): void {
    withDatabase(file, (d) => {
      d.exec(`PRAGMA page_size = ${pageSize}; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;`);
      d.exec('CREATE TABLE big (v BLOB)');
      d.exec(`INSERT INTO big VALUES (zeroblob(${2 ** 29}))`);
      d.exec(`INSERT INTO big VALUES (zeroblob(${2 ** 29}))`);
      d.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)');
      d.exec('BEGIN');
      const ins = d.prepare('INSERT INTO t (id, v) VALUES (?, ?)');
      for (let id = 1; id <= 200; id++) ins.run(id, r.bytes(1_500));
      d.exec('COMMIT');
      d.exec('PRAGMA journal_mode = WAL');
    });
    const sparse = spawnSync('cp', ['--sparse=always', file, `${file}.sparse`], { encoding: 'utf8' });
    expect(sparse.status, sparse.stderr).toBe(0);
    renameSync(`${file}.sparse`, file);
  }

  /** Every page's checksum (none for the lock page) and the database's, read from the main file here: only while no agent holds it and no WAL is left. */
  function fileSums(file: string): { commit: number; sums: (bigint | undefined)[]; checksum: bigint } {
    expect(existsSync(`${file}-wal`)).toBe(false);
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      expect(size % pageSize).toBe(0);
      const commit = size / pageSize;
      const per = 16;
      const buf = Buffer.alloc(per * pageSize);
      const sums: (bigint | undefined)[] = [];
      let c = 0n;
      for (let first = 1; first <= commit; first += per) {
        const n = Math.min(per, commit - first + 1);
        expect(readSync(fd, buf, 0, n * pageSize, (first - 1) * pageSize)).toBe(n * pageSize);
        for (let i = 0; i < n; i++) {
          const pgno = first + i;
          if (pgno === LOCK) continue;
          sums[pgno] = pageChecksum(pgno, buf.subarray(i * pageSize, (i + 1) * pageSize));
          c ^= sums[pgno];
        }
      }
      return { commit, sums, checksum: CHECKSUM_FLAG | c };
    } finally {
      closeSync(fd);
    }
  }

  /** The pages a diff between two sets of page checksums must carry. */
  function changedSums(before: ReturnType<typeof fileSums>, after: ReturnType<typeof fileSums>): number[] {
    const out: number[] = [];
    for (let pgno = 1; pgno <= after.commit; pgno++) {
      if (pgno !== LOCK && (pgno > before.commit || before.sums[pgno] !== after.sums[pgno])) out.push(pgno);
    }
    return out;
  }

  /** `length` bytes of the file from `offset`. */
  function localBytes(file: string, offset: number, length: number): Uint8Array {
    const fd = openSync(file, 'r');
    try {
      const out = new Uint8Array(length);
      expect(readSync(fd, out, 0, length, offset)).toBe(length);
      return out;
    } finally {
      closeSync(fd);
    }
  }

  /** The server's head has the file's size and checksum, and the same bytes around the lock page and at the end (ranged reads of its SQLite file). */
  async function expectServerAt(db: string, file: string, local: ReturnType<typeof fileSums>): Promise<void> {
    const info = await serverInfo(db);
    expect({ commit: info.commit, checksum: info.pos.postApplyChecksum }).toEqual({
      commit: local.commit,
      checksum: formatHex64(local.checksum),
    });
    for (const [first, pages] of [
      [LOCK - 1, 3],
      [local.commit - 1, 2],
    ]) {
      const offset = (first - 1) * pageSize;
      const res = await devFetch(server, `/v1/databases/${db}/snapshot`, {
        headers: { range: `bytes=${offset}-${offset + pages * pageSize - 1}` },
      });
      expect(res.status).toBe(206);
      const got = new Uint8Array(await res.arrayBuffer());
      expect({ first, sha: sha256(got) }).toEqual({ first, sha: sha256(localBytes(file, offset, pages * pageSize)) });
    }
  }

  /** The agent started, synced once and closed; its events. */
  async function runAgent(file: string, db: string): Promise<AgentEvent[]> {
    const events: AgentEvent[] = [];
    const agent = newAgent(file, db, events);
    try {
      await agent.start();
      await agent.sync();
    } finally {
      await agent.close();
    }
    return events;
  }

  it('replicated, changed past the lock page, then VACUUMed below it: each restart diff has exactly the changed pages and the server the local checksum', async () => {
    const file = path.join(dir, 'past-lock.db');
    const db = 'diff-past-lock';
    const r = prng(SEED + 30);
    bigDatabase(file, r);
    expect(statSync(file).blocks * 512).toBeLessThan(256 * 2 ** 20);
    const v0 = fileSums(file);
    expect(v0.commit).toBeGreaterThan(LOCK);
    const tRoot = withDatabase(file, (d) => d.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 't'").get() as { rootpage: number });
    expect(tRoot.rootpage).toBeGreaterThan(LOCK);

    const first = await runAgent(file, db);
    expect(first.flatMap((e) => (e.event === 'push' ? [`${e.reason} ${e.pages}`] : []))).toEqual([`snapshot ${v0.commit - 1}`]);
    await expectServerAt(db, file, v0);

    // Rows of `t` updated and appended while the agent is down: pages past the lock page, one more at the end.
    withDatabase(file, (d) => {
      d.prepare('UPDATE t SET v = ? WHERE id = 150').run(r.bytes(1_500));
      const n = pageCount(d);
      const ins = d.prepare('INSERT INTO t (v) VALUES (?)');
      while (pageCount(d) === n) ins.run(r.bytes(1_500));
      expect(pageCount(d)).toBe(n + 1);
    });
    const v1 = fileSums(file);
    const changed1 = changedSums(v0, v1);
    expect(changed1.filter((p) => p > LOCK).length).toBeGreaterThan(1);
    expect(changed1.length).toBeLessThan(10);
    const txid1 = await serverTXID(db);
    expect(expectOneDiff(await runAgent(file, db), pageSize, v1.commit, txid1)).toBe(changed1.length);
    await expectServerAt(db, file, v1);

    // The zero rows deleted and the database VACUUMed: it shrinks from past the lock page to a few pages.
    withDatabase(file, (d) => {
      d.exec('DELETE FROM big');
      d.exec('VACUUM');
    });
    const v2 = fileSums(file);
    expect(v2.commit).toBeLessThan(20);
    const txid2 = await serverTXID(db);
    expect(expectOneDiff(await runAgent(file, db), pageSize, v2.commit, txid2)).toBe(changedSums(v1, v2).length);
    const image = databaseImage(file, `${file}.image`);
    expect(image.length).toBe(v2.commit * pageSize);
    await expectServerHolds(db, image, pageSize);
  }, 60_000);
});
