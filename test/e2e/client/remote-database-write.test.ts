// RemoteDatabase write mode against the real local platform: transactions over the write-enabled VFS, committed with POST …/tx?base=; conflicts.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientError, ConflictError } from '../../../src/client/errors.ts';
import { RemoteDatabase } from '../../../src/client/remote-database.ts';
import type { RemoteDatabaseOptions } from '../../../src/client/remote-database-options.ts';
import { DEV_TOKEN, type DevServer, devFetch, startDevServer } from '../../helpers/dev-server.ts';
import { type Prng, prng } from '../../helpers/prng.ts';
import { SqliteStates, inspectSqlite, word } from '../../helpers/sqlite-states.ts';

const SEED = Number(process.env.LTX_CLIENT_SEED ?? Date.now() % 0x7fffffff);

let server: DevServer;

function open(db: string, more: Partial<RemoteDatabaseOptions> = {}): Promise<RemoteDatabase> {
  return RemoteDatabase.open({ url: server.url, token: DEV_TOKEN, db, http: { retries: 0 }, ...more });
}

async function snapshot(db: string): Promise<Uint8Array> {
  const res = await devFetch(server, `/v1/databases/${db}/snapshot?format=sqlite`);
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

type Row = [number, string, number];

/** A few random inserts, updates and deletes, applied to `model` too. */
async function randomWrites(
  tx: Parameters<Parameters<RemoteDatabase['transaction']>[0]>[0],
  rng: Prng,
  model: Map<number, Row>,
): Promise<void> {
  for (let i = 0, n = 1 + rng.int(20); i < n; i++) {
    const op = rng.int(4);
    const ids = [...model.keys()];
    if (op <= 1 || ids.length === 0) {
      const row: Row = [0, word(rng, 5, 300), rng.int(1000)];
      const r = await tx.query('INSERT INTO notes (body, n) VALUES (?, ?)', [row[1], row[2]]);
      row[0] = r.lastInsertRowid as number;
      expect(r.changes).toBe(1);
      model.set(row[0], row);
    } else if (op === 2) {
      const id = ids[rng.int(ids.length)];
      const n = rng.int(1000);
      await tx.query('UPDATE notes SET n = ? WHERE id = ?', [n, id]);
      model.get(id)![2] = n;
    } else {
      const id = ids[rng.int(ids.length)];
      await tx.query('DELETE FROM notes WHERE id = ?', [id]);
      model.delete(id);
    }
  }
}

const sorted = (model: Map<number, Row>): Row[] => [...model.values()].sort((a, b) => a[0] - b[0]);

beforeAll(async () => {
  console.log(`client write tests: seed ${SEED} (repeat with LTX_CLIENT_SEED=${SEED})`);
  server = await startDevServer();
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('write mode', () => {
  it('creates a database, writes transactions, and a fresh reader and the snapshot see every row', async () => {
    const rng = prng(SEED);
    const writer = await open('notes', { create: true });
    expect([writer.txid, writer.commit, writer.pinned]).toEqual([0n, 0, false]);
    const created = await writer.transaction(async (tx) => {
      await tx.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, n INTEGER); CREATE INDEX notes_by_n ON notes (n);');
      return 'created';
    });
    expect(created).toMatchObject({ value: 'created', txid: 1n });
    expect(created.pos.txid).toBe('0000000000000001');
    const model = new Map<number, Row>();
    for (let t = 0; t < 12; t++) {
      const r = await writer.transaction((tx) => randomWrites(tx, rng, model));
      expect(r.txid).toBe(BigInt(t + 2));
      expect(writer.txid).toBe(r.txid);
      expect(r.pages).toBeGreaterThan(0);
    }
    // A transaction sees its own writes, and reads give what it returns.
    const counted = await writer.transaction(async (tx) => {
      const ins = await tx.query('INSERT INTO notes (body, n) VALUES (?, ?)', ['last', 7]);
      return { id: ins.lastInsertRowid as number, count: (await tx.query('SELECT count(*) FROM notes')).rows[0][0] };
    });
    model.set(counted.value.id, [counted.value.id, 'last', 7]);
    expect(counted.value.count).toBe(model.size);
    // The writer reads its own commits without fetching them back.
    const all = 'SELECT id, body, n FROM notes ORDER BY id';
    expect((await writer.query(all)).rows).toEqual(sorted(model));

    const reader = await open('notes');
    expect(reader.txid).toBe(writer.txid);
    expect(reader.commit).toBe(writer.commit);
    expect((await reader.query(all)).rows).toEqual(sorted(model));
    const snap = inspectSqlite(await snapshot('notes'), all);
    expect(snap.integrity).toBe('ok');
    expect(snap.rows).toEqual(sorted(model));
    expect(snap.rows.length).toBe(model.size);
  });

  it('a transaction that writes nothing, or rolls back, sends nothing', async () => {
    const db = await open('notes');
    const txid = db.txid;
    const r = await db.transaction(async (tx) => (await tx.query('SELECT count(*) FROM notes')).rows[0][0]);
    expect(r.txid).toBe(txid);
    expect(r.pages).toBe(0);
    const rolled = await db.transaction(async (tx) => {
      await tx.query("INSERT INTO notes (body, n) VALUES ('gone', 1)");
      await tx.exec('ROLLBACK');
    });
    expect([rolled.txid, rolled.pages]).toEqual([txid, 0]);
    expect((await open('notes')).txid).toBe(txid);
  });

  it('a failing callback or SQL error applies nothing; SQL errors are ClientError SQL_ERROR with SQLite’s code', async () => {
    const db = await open('notes');
    const txid = db.txid;
    await expect(
      db.transaction(async (tx) => {
        await tx.query("INSERT INTO notes (body, n) VALUES ('x', 1)");
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    const e = await db.transaction((tx) => tx.query('INSERT INTO nowhere VALUES (1)')).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ClientError);
    expect((e as ClientError).code).toBe('SQL_ERROR');
    expect((e as ClientError).details?.sqliteCode).toBe(1);
    // A statement-level failure can be caught and the transaction goes on.
    const caught = await db.transaction(async (tx) => {
      await tx.query("INSERT INTO notes (id, body, n) VALUES (1000000, 'kept', 1)");
      const dup = await tx
        .query("INSERT INTO notes (id, body, n) VALUES (1000000, 'dup', 1)")
        .catch((err: ClientError) => err.details?.sqliteCode);
      return dup;
    });
    expect(caught.value).toBe(1555); // SQLITE_CONSTRAINT_PRIMARYKEY
    expect(caught.txid).toBe(txid + 1n);
    expect((await (await open('notes')).query('SELECT body FROM notes WHERE id = 1000000')).rows).toEqual([['kept']]);
  });

  it('conflict: two writers on the same base — the second gets ConflictError with the head, the server keeps only the first', async () => {
    const a = await open('notes');
    const b = await open('notes');
    const base = a.txid;
    expect(b.txid).toBe(base);
    const won = await a.transaction((tx) => tx.query("INSERT INTO notes (body, n) VALUES ('from a', 1)"));
    expect(won.txid).toBe(base + 1n);
    const e = await b.transaction((tx) => tx.query("INSERT INTO notes (body, n) VALUES ('from b', 2)")).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ConflictError);
    expect(e).toMatchObject({ status: 409, code: 'CONFLICT', base });
    expect((e as ConflictError).headTXID).toBe(base + 1n);
    // Nothing applied: not on the server, not in b's view.
    expect(b.txid).toBe(base);
    const who = "SELECT body FROM notes WHERE body LIKE 'from %' ORDER BY body";
    expect((await b.query(who)).rows).toEqual([]);
    expect(inspectSqlite(await snapshot('notes'), who).rows).toEqual([['from a']]);
    // Refresh and retry: b's write lands on top of a's.
    await b.refresh();
    const retried = await b.transaction((tx) => tx.query("INSERT INTO notes (body, n) VALUES ('from b', 2)"));
    expect(retried.txid).toBe(base + 2n);
    const snap = inspectSqlite(await snapshot('notes'), who);
    expect(snap.rows).toEqual([['from a'], ['from b']]);
    expect(snap.integrity).toBe('ok');
  });

  it('writes over a large base with a tiny cache: reruns fetch what they miss; WAL-mode header bytes are kept', async () => {
    const rng = prng(SEED ^ 0xbeef);
    const states = new SqliteStates(4096, 'WAL');
    try {
      states.commit((db) => {
        db.exec('CREATE TABLE big (id INTEGER PRIMARY KEY, k TEXT UNIQUE, v TEXT)');
        const insert = db.prepare('INSERT INTO big (k, v) VALUES (?, ?)');
        for (let i = 0; i < 8000; i++) insert.run(`k${i}-${word(rng, 4, 8)}`, word(rng, 50, 150));
      });
      expect(states.page(1, 1)[18]).toBe(2); // WAL mode in the header
      await states.push(server, 'big', 1, Date.now());
      const db = await open('big', { cacheBytes: 16 * 1024 });
      const before = db.stats.requests;
      const r = await db.transaction(async (tx) => {
        await tx.query("UPDATE big SET v = v || '!' WHERE id % 50 = 0");
        await tx.query("INSERT INTO big (k, v) SELECT k || '-copy', v FROM big WHERE id % 100 = 1");
        return (await tx.query('SELECT count(*) FROM big')).rows[0][0];
      });
      expect(r.value).toBe(8080);
      console.log(`write over a cold base: ${db.stats.requests - before} requests, ${db.stats.pagesFetched} pages of ${db.commit}`);
      expect(db.stats.requests - before).toBeGreaterThan(3);
      const snapBytes = await snapshot('big');
      expect([snapBytes[18], snapBytes[19]]).toEqual([2, 2]);
      const check = "SELECT count(*), sum(v LIKE '%!'), sum(k LIKE '%-copy') FROM big";
      const snap = inspectSqlite(snapBytes, check);
      expect(snap.integrity).toBe('ok');
      expect(snap.rows).toEqual([[8080, 160, 80]]);
      expect((await (await open('big')).query(check)).rows).toEqual(snap.rows);
    } finally {
      states.close();
    }
  });
});
