// `npm run dev` (scripts/dev.ts): wrangler comes up, the demo database gets seeded, SIGINT stops everything.

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEV_TOKEN, freePort, stopProcessGroup } from '../../helpers/dev-server.ts';
import { REPO_DIR } from '../../helpers/run-cli.ts';
import { DEMO_STEPS } from '../../../scripts/lib/demo-history.ts';

let child: ChildProcess | undefined;
let dir = '';

afterAll(async () => {
  if (child) await stopProcessGroup(child, { signal: 'SIGKILL' });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Polls until `fn` returns a value, or fails after `ms`. */
async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined>, log: () => string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what} within ${ms} ms\n--- dev output ---\n${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('scripts/dev.ts', () => {
  it('starts wrangler, seeds the demo database once, and stops on SIGINT', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ltx-edge-dev-'));
    const port = await freePort();
    const inspectorPort = await freePort();
    const logFile = path.join(dir, 'dev.log');
    const fd = openSync(logFile, 'w');
    const args = ['--port', String(port), '--persist-to', path.join(dir, 'state'), '--inspector-port', String(inspectorPort)];
    // Its own process group: SIGINT goes to dev.ts alone, as a `kill -INT` would; the group check below sees leftovers.
    const proc = spawn(process.execPath, [path.join(REPO_DIR, 'scripts/dev.ts'), ...args], {
      cwd: REPO_DIR,
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, LTX_EDGE_TOKEN: undefined, NODE_NO_WARNINGS: '1', LTX_EDGE_DEV_HISTORY_MS: '100' },
    });
    child = proc;
    closeSync(fd);
    // If this process ends before afterAll (crash, timeout), the detached group must not outlive it.
    const killOnExit = (): void => {
      try {
        process.kill(-proc.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    process.once('exit', killOnExit);
    proc.on('exit', () => process.off('exit', killOnExit));
    const log = (): string => readFileSync(logFile, 'utf8');
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      proc.on('exit', (code, signal) => resolve({ code, signal })),
    );

    const info = await until(
      'GET /v1/databases/demo did not answer 200 with pages',
      50_000,
      async () => {
        const res = await fetch(`http://localhost:${port}/v1/databases/demo`, { headers: { authorization: `Bearer ${DEV_TOKEN}` } });
        if (res.status !== 200) return undefined;
        const body = (await res.json()) as { commit: number; pageSize: number; pos: { txid: string } };
        return body.commit > 0 ? body : undefined;
      },
      log,
    );
    expect(info).toMatchObject({ pageSize: 4096 });
    await until('the "try this" block was not printed', 10_000, async () => (log().includes('Try:') ? true : undefined), log);
    expect(log()).toContain(`curl -H 'Authorization: Bearer ${DEV_TOKEN}' http://localhost:${port}/v1/databases/demo`);
    expect(log()).toContain(`console: http://localhost:${port}/ui/`);
    // The demo has a past: the import (TXID 1), then every DEMO_STEPS transaction, the later ones 100 ms apart.
    const head = `000000000000000${(1 + DEMO_STEPS.length).toString(16)}`;
    await until(
      `the demo did not reach TXID ${head}`,
      20_000,
      async () => {
        const res = await fetch(`http://localhost:${port}/v1/databases/demo`, { headers: { authorization: `Bearer ${DEV_TOKEN}` } });
        return ((await res.json()) as { pos: { txid: string } }).pos.txid === head ? true : undefined;
      },
      log,
    );
    const atImport = await fetch(`http://localhost:${port}/v1/databases/demo/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEV_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sql: 'SELECT count(*) FROM customers', txid: '1' }),
    });
    expect(((await atImport.json()) as { rows: unknown[][] }).rows).toEqual([[2000]]);

    proc.kill('SIGINT');
    const result = await Promise.race([exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 15_000))]);
    expect(result, log()).not.toBe('timeout');
    expect(result).toEqual({ code: 130, signal: null });
    // wrangler and workerd went with it: nothing left in the group.
    await until(
      'processes of the group outlived dev.ts',
      5_000,
      async () => {
        try {
          process.kill(-proc.pid!, 0);
          return undefined;
        } catch {
          return true;
        }
      },
      log,
    );
    child = undefined;
  }, 75_000);
});
