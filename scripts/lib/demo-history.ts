// History for the `demo` database of `npm run dev`: a few transactions at once, then one every few seconds for the first minutes.

import { readFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import type { ApiClient } from '../../src/remote/http-client.ts';
import { changedPages } from './page-diff.ts';

/** The demo's transactions, in order: orders placed, paid, shipped and cancelled, a customer moving. */
export const DEMO_STEPS: readonly string[] = [
  "INSERT INTO customers (id, name, email, country, created_at) VALUES (2001, 'Katherine Johnson', 'katherine.johnson.2001@example.com', 'US', '2024-12-01')",
  "INSERT INTO orders (id, customer_id, status, total_cents, created_at) VALUES (8001, 2001, 'pending', 4200, '2024-12-01')",
  "UPDATE orders SET status = 'paid' WHERE id = 8001",
  "UPDATE orders SET status = 'shipped' WHERE status = 'paid' AND id % 97 = 0",
  "UPDATE customers SET country = CASE country WHEN 'NL' THEN 'SE' ELSE 'NL' END WHERE id = 7",
  "INSERT INTO orders (id, customer_id, status, total_cents, created_at) VALUES (8002, 7, 'pending', 1999, '2024-12-02')",
  "UPDATE orders SET status = 'cancelled' WHERE id = 8002",
  "DELETE FROM orders WHERE status = 'cancelled' AND id % 50 = 0",
  "INSERT INTO orders (id, customer_id, status, total_cents, created_at) VALUES (8003, 2001, 'paid', 12500, '2024-12-03')",
  'UPDATE orders SET total_cents = total_cents + 100 WHERE customer_id = 2001',
  "UPDATE orders SET status = 'shipped' WHERE id IN (8001, 8003)",
  "INSERT INTO customers (id, name, email, country, created_at) VALUES (2002, 'Mary Jackson', 'mary.jackson.2002@example.com', 'US', '2024-12-04')",
];

export interface DemoHistoryOptions {
  /** Steps written at once, before the first pause. */
  now: number;
  /** Pause between the later steps. */
  everyMs: number;
  /** Told after each step. */
  onStep?: (step: number, txid: string) => void;
}

/**
 * Writes DEMO_STEPS to `db` one transaction each: runs the statement on the local `file` (the
 * imported database, journal_mode=DELETE) and sends the pages it changed with POST …/tx, based on
 * the TXID before. Stops at the first failure (thrown) or when `signal` aborts.
 */
export async function writeDemoHistory(
  client: ApiClient,
  db: string,
  file: string,
  base: bigint,
  opts: DemoHistoryOptions,
  signal?: AbortSignal,
): Promise<void> {
  const pageSize = 4096;
  let txid = base;
  for (const [i, sql] of DEMO_STEPS.entries()) {
    if (i >= opts.now) await pause(opts.everyMs, signal);
    if (signal?.aborted) return;
    const before = readFileSync(file);
    const sqlite = new DatabaseSync(file);
    try {
      sqlite.exec(sql);
    } finally {
      sqlite.close();
    }
    const { pages, commit } = changedPages(before, readFileSync(file), pageSize);
    if (pages.length === 0) throw new Error(`demo step ${i + 1} changed no page: ${sql}`);
    const pos = await client.writePages(db, txid, pages, { commit });
    txid = BigInt('0x' + pos.txid);
    opts.onStep?.(i + 1, pos.txid);
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
