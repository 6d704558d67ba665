// Real SQLite databases built with node:sqlite, kept state by state, pushed to a server as LTX; answers from node:sqlite per state.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { HEADER_FLAG_NO_CHECKSUM, encodeLTX, makeHeader } from '../../src/ltx/index.ts';
import { devFetch } from './dev-server.ts';
import type { Prng } from './prng.ts';

/** A database file state by state: states[n] = the bytes right after TXID n (states[0] unused). */
export class SqliteStates {
  readonly states: Uint8Array[] = [new Uint8Array()];
  readonly pageSize: number;
  readonly dir: string;
  private readonly file: string;
  private readonly db: DatabaseSync;

  constructor(pageSize = 4096, journalMode: 'DELETE' | 'WAL' = 'DELETE') {
    this.pageSize = pageSize;
    this.dir = mkdtempSync(path.join(tmpdir(), 'ltx-client-states-'));
    this.file = path.join(this.dir, 'db.sqlite');
    this.db = new DatabaseSync(this.file);
    this.db.exec(`PRAGMA page_size = ${pageSize}; PRAGMA journal_mode = ${journalMode};`);
  }

  /** Runs `fn` in a transaction and saves the resulting file as the next state. */
  commit(fn: (db: DatabaseSync) => void): number {
    this.db.exec('BEGIN');
    fn(this.db);
    this.db.exec('COMMIT');
    // A WAL database: move the commit into the main file, as Litestream's LTX would carry it.
    this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    this.states.push(new Uint8Array(readFileSync(this.file)));
    return this.states.length - 1;
  }

  get last(): number {
    return this.states.length - 1;
  }

  pagesOf(n: number): number {
    return this.states[n].length / this.pageSize;
  }

  page(n: number, pgno: number): Uint8Array {
    return this.states[n].subarray((pgno - 1) * this.pageSize, pgno * this.pageSize);
  }

  /** Pages of state n that are new or differ from state n − 1. */
  changedPages(n: number): number[] {
    const out: number[] = [];
    for (let p = 1; p <= this.pagesOf(n); p++) {
      if (n === 1 || p > this.pagesOf(n - 1) || Buffer.compare(this.page(n, p), this.page(n - 1, p)) !== 0) out.push(p);
    }
    return out;
  }

  /** TXID n as an LTX file (a snapshot for n = 1), NoChecksum like Litestream, stamped `timestamp` (ms). */
  ltx(n: number, timestamp: number): Uint8Array {
    const header = makeHeader({
      flags: HEADER_FLAG_NO_CHECKSUM,
      pageSize: this.pageSize,
      commit: this.pagesOf(n),
      minTXID: BigInt(n),
      maxTXID: BigInt(n),
      timestamp,
    });
    return encodeLTX(
      header,
      this.changedPages(n).map((pgno) => ({ pgno, data: this.page(n, pgno) })),
    );
  }

  /** Pushes TXID n to `db` on `server`; throws unless the server answers 201. */
  async push(server: { url: string }, db: string, n: number, timestamp: number): Promise<void> {
    const res = await devFetch(server, `/v1/databases/${db}/ltx`, {
      method: 'POST',
      body: this.ltx(n, timestamp),
      headers: { 'content-type': 'application/octet-stream' },
    });
    if (res.status !== 201) throw new Error(`push of TXID ${n} to ${db}: ${res.status} ${await res.text()}`);
    await res.body?.cancel();
  }

  /** node:sqlite's rows for `sql` at state n (values as arrays, in column order). */
  answer(n: number, sql: string, params: unknown[] = []): unknown[][] {
    const file = path.join(this.dir, `state-${n}.sqlite`);
    writeFileSync(file, this.states[n]);
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      return (db.prepare(sql).all(...(params as never[])) as Record<string, unknown>[]).map((r) => Object.values(r));
    } finally {
      db.close();
    }
  }

  close(): void {
    this.db.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** `n` lowercase letters. */
export function word(rng: Prng, min: number, max: number): string {
  const n = min + rng.int(max - min + 1);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(97 + rng.int(26));
  return s;
}

/** Rows of a bytes file opened with node:sqlite (e.g. a downloaded snapshot), and its integrity_check. */
export function inspectSqlite(bytes: Uint8Array, sql: string): { rows: unknown[][]; integrity: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'ltx-client-inspect-'));
  const file = path.join(dir, 'snap.sqlite');
  writeFileSync(file, bytes);
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const integrity = (db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[])
      .map((r) => r.integrity_check)
      .join('\n');
    const rows = (db.prepare(sql).all() as Record<string, unknown>[]).map((r) => Object.values(r));
    return { rows, integrity };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
