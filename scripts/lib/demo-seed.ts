// The demo database of `npm run dev`: a small customers/orders SQLite file made with node:sqlite, imported as `demo`.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { mulberry32 } from '../../src/storage/prng.ts';
import { ApiClient } from '../../src/remote/http-client.ts';
import { type ImportResult, importDatabase } from '../../src/cli/import.ts';
import { DEMO_STEPS, writeDemoHistory } from './demo-history.ts';

export const DEMO_DB = 'demo';

export interface DemoCounts {
  customers: number;
  orders: number;
}

const FIRST = ['Ada', 'Alan', 'Grace', 'Linus', 'Margaret', 'Dennis', 'Barbara', 'Ken', 'Radia', 'Edsger', 'Frances', 'Donald'];
const LAST = [
  'Lovelace',
  'Turing',
  'Hopper',
  'Torvalds',
  'Hamilton',
  'Ritchie',
  'Liskov',
  'Thompson',
  'Perlman',
  'Dijkstra',
  'Allen',
  'Knuth',
];
const COUNTRIES = ['DE', 'FR', 'GB', 'US', 'CA', 'JP', 'BR', 'IN', 'NL', 'SE'];
const STATUSES = ['pending', 'paid', 'shipped', 'cancelled'];

/**
 * Writes the demo database to `file` (which must not exist): `customers` and `orders` with an index,
 * 4 KiB pages, journal_mode=DELETE so the file alone is the whole database once closed.
 */
export function createDemoDatabase(file: string, counts: DemoCounts = { customers: 2000, orders: 8000 }): DemoCounts {
  const rand = mulberry32(20241124); // the same demo rows on every machine
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const day = (offset: number): string => new Date(Date.UTC(2024, 0, 1) + offset * 86_400_000).toISOString().slice(0, 10);
  const db = new DatabaseSync(file);
  try {
    db.exec(`
PRAGMA page_size = 4096;
PRAGMA journal_mode = DELETE;
CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  country TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers (id),
  status TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'shipped', 'cancelled')),
  total_cents INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX orders_by_customer ON orders (customer_id, created_at);
`);
    const addCustomer = db.prepare('INSERT INTO customers (id, name, email, country, created_at) VALUES (?, ?, ?, ?, ?)');
    const addOrder = db.prepare('INSERT INTO orders (id, customer_id, status, total_cents, created_at) VALUES (?, ?, ?, ?, ?)');
    db.exec('BEGIN');
    for (let id = 1; id <= counts.customers; id++) {
      const first = pick(FIRST);
      const last = pick(LAST);
      addCustomer.run(
        id,
        `${first} ${last}`,
        `${first}.${last}.${id}@example.com`.toLowerCase(),
        pick(COUNTRIES),
        day(Math.floor(rand() * 300)),
      );
    }
    for (let id = 1; id <= counts.orders; id++) {
      addOrder.run(
        id,
        1 + Math.floor(rand() * counts.customers),
        pick(STATUSES),
        500 + Math.floor(rand() * 50_000),
        day(Math.floor(rand() * 330)),
      );
    }
    db.exec('COMMIT');
  } finally {
    db.close();
  }
  return counts;
}

export type SeedOutcome =
  | { kind: 'exists' }
  | {
      kind: 'seeded';
      counts: DemoCounts;
      result: ImportResult;
      /** Transactions written so far, and the later ones still to come (settles when they are written). */
      history: { written: number; total: number; everyMs: number; done: Promise<void> };
    };

/** History of a new demo: this many transactions at once, the rest one every `everyMs`. */
export const DEMO_HISTORY_NOW = 4;

/**
 * Creates and imports the demo database unless `demo` already exists (GET /v1/databases/demo → 404
 * is the only case that seeds). The import is `ltx-edge import`'s own code; then DEMO_HISTORY_NOW
 * transactions, and the rest of DEMO_STEPS in the background, one every `everyMs`, so the demo has a
 * past to travel to and a head that moves in the first minutes.
 */
export async function seedDemo(url: string, token: string, everyMs = 15_000, signal?: AbortSignal): Promise<SeedOutcome> {
  const client = new ApiClient({ url, token }, { retries: 2 });
  if (await client.databaseInfo(DEMO_DB)) return { kind: 'exists' };
  const dir = mkdtempSync(path.join(tmpdir(), 'ltx-edge-demo-'));
  const cleanUp = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    const file = path.join(dir, 'demo.db');
    const counts = createDemoDatabase(file);
    const result = await importDatabase(client, DEMO_DB, file, { progress: false });
    let written = 0;
    let now!: () => void;
    const firstSteps = new Promise<void>((resolve) => (now = resolve));
    const onStep = (step: number): void => {
      written = step;
      if (step === DEMO_HISTORY_NOW) now();
    };
    const done = writeDemoHistory(
      client,
      DEMO_DB,
      file,
      BigInt('0x' + result.pos.txid),
      { now: DEMO_HISTORY_NOW, everyMs, onStep },
      signal,
    );
    void done.finally(cleanUp).catch(() => undefined);
    await Promise.race([firstSteps, done]);
    return { kind: 'seeded', counts, result, history: { written, total: DEMO_STEPS.length, everyMs, done } };
  } catch (e) {
    cleanUp();
    throw e;
  }
}

/** The "try this" block printed once the server is up. */
export function tryThis(url: string, token: string, outcome: SeedOutcome | { kind: 'failed'; message: string }): string {
  const auth = `-H 'Authorization: Bearer ${token}'`;
  const status =
    outcome.kind === 'seeded'
      ? `seeded: ${outcome.counts.customers} customers, ${outcome.counts.orders} orders ` +
        `(${outcome.result.commit} pages of ${outcome.result.pageSize} bytes), then ${outcome.history.written} transactions; ` +
        `${outcome.history.total - outcome.history.written} more follow, one every ${outcome.history.everyMs / 1000} s`
      : outcome.kind === 'exists'
        ? 'already there (kept from an earlier run)'
        : `not seeded: ${outcome.message}`;
  const lines = [
    `ltx-edge is up at ${url} — dev token: ${token}`,
    `console: ${url}/ui/  (sign in with the token above)`,
    `demo database: ${status}`,
    '',
    'Try:',
    `  curl ${auth} ${url}/v1/databases/${DEMO_DB}`,
    `  curl ${auth} ${url}/v1/databases/${DEMO_DB}/ltx`,
    `  curl ${auth} ${url}/v1/databases/${DEMO_DB}/query -d '{"sql": "SELECT status, count(*) FROM orders GROUP BY status", "txid": "1"}'`,
    `  curl -N ${auth} ${url}/v1/databases/${DEMO_DB}/watch`,
    `  curl ${auth} -o demo.ltx ${url}/v1/databases/${DEMO_DB}/ltx/0000/0000000000000001-0000000000000001.ltx`,
    `  npx ltx-edge ltx inspect demo.ltx --json | head -20`,
    `  npx ltx-edge ltx apply demo.db demo.ltx && sqlite3 demo.db 'SELECT status, count(*) FROM orders GROUP BY status'`,
    `  export LTX_EDGE_URL=${url} LTX_EDGE_TOKEN=${token}`,
    `  npx ltx-edge import mydb path/to/any.sqlite`,
    `  npx ltx-edge push mydb 0000000000000002-0000000000000002.ltx`,
  ];
  return ['', ...lines.map((l) => (l ? `  ${l}` : l)), ''].join('\n');
}
