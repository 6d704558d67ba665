// `ltx-edge replicate` as a user runs it: usage errors, a server that holds another history (stop, or --reset-from-server).

import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseImage, openAppDatabase, runTransaction, sha256 } from '../../helpers/agent-workload.ts';
import { DEV_TOKEN, type DevServer, startDevServer } from '../../helpers/dev-server.ts';
import { prng } from '../../helpers/prng.ts';
import { runCLI } from '../../helpers/run-cli.ts';

const SEED = 99;
let server: DevServer;
let dir: string;
const env = { LTX_EDGE_TOKEN: DEV_TOKEN };

beforeAll(async () => {
  server = await startDevServer();
  dir = mkdtempSync(path.join(tmpdir(), 'ltx-agent-cli-'));
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A database with `n` seeded transactions, closed (its WAL checkpointed away). */
function makeDatabase(name: string, seed: number, n: number): string {
  const file = path.join(dir, name);
  const app = openAppDatabase(file, 4096);
  const r = prng(seed);
  for (let i = 0; i < n; i++) runTransaction(app, r, i);
  app.close();
  return file;
}

function replicate(file: string, db: string, ...extra: string[]) {
  return runCLI(['replicate', file, '--url', server.url, '--db', db, '--once', '--json', ...extra], { env });
}

function ok(r: { status: number | null; stdout: string; stderr: string }): void {
  expect(r.status, r.stdout + r.stderr).toBe(0);
}

function events(stdout: string): Record<string, unknown>[] {
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function headSha(db: string): Promise<string> {
  const res = await fetch(`${server.url}/v1/databases/${db}/snapshot`, { headers: { authorization: `Bearer ${DEV_TOKEN}` } });
  expect(res.status).toBe(200);
  return sha256(new Uint8Array(await res.arrayBuffer()));
}

describe('usage', () => {
  it.each([
    ['no file', ['replicate', '--url', 'http://127.0.0.1:1']],
    ['two files', ['replicate', 'a.db', 'b.db', '--url', 'http://127.0.0.1:1']],
    ['bad interval', ['replicate', 'a.db', '--url', 'http://127.0.0.1:1', '--interval', 'soon']],
    ['interval too short', ['replicate', 'a.db', '--url', 'http://127.0.0.1:1', '--interval', '1ms']],
    ['no server', ['replicate', 'a.db']],
  ])('%s → exit 2', (_name, args) => {
    const r = runCLI(args, { env: { LTX_EDGE_URL: undefined } });
    expect(r.status).toBe(2);
  });

  it('--help prints the usage', () => {
    const r = runCLI(['replicate', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--reset-from-server');
  });
});

describe('another history on the server', () => {
  it('a different database under the same name: DIVERGED, exit 1, the server unchanged', async () => {
    const a = makeDatabase('a.db', SEED, 300);
    const b = makeDatabase('b.db', SEED + 1, 200);
    const first = replicate(a, 'shared-name');
    expect(first.status, first.stdout + first.stderr).toBe(0);
    const before = await headSha('shared-name');
    const r = replicate(b, 'shared-name');
    expect(r.status).toBe(1);
    expect(events(r.stdout).find((e) => e.event === 'fatal')?.code).toBe('DIVERGED');
    expect(await headSha('shared-name')).toBe(before);

    // --reset-from-server: the local file takes the server's state, then the two agree.
    const reset = replicate(b, 'shared-name', '--reset-from-server');
    expect(reset.status, reset.stdout + reset.stderr).toBe(0);
    expect(events(reset.stdout).find((e) => e.event === 'start')?.action).toBe('reset');
    const image = databaseImage(b, path.join(dir, 'image-b.db'));
    expect(await headSha('shared-name')).toBe(sha256(image));
    const check = new DatabaseSync(b, { readOnly: true });
    const orig = new DatabaseSync(a, { readOnly: true });
    try {
      expect(check.prepare('SELECT count(*) AS n, sum(qty) AS q FROM items').get()).toEqual(
        orig.prepare('SELECT count(*) AS n, sum(qty) AS q FROM items').get(),
      );
      expect(check.prepare('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' });
    } finally {
      check.close();
      orig.close();
    }
  });

  it('the server moved past what this agent pushed: SERVER_AHEAD, exit 1', async () => {
    const a = makeDatabase('ahead.db', SEED + 2, 100);
    ok(replicate(a, 'ahead'));
    // Another copy of the database, with its own agent state, writes on under the same name.
    const other = path.join(dir, 'ahead-copy.db');
    copyFileSync(a, other);
    rmSync(`${other}-wal`, { force: true });
    const app = openAppDatabase(other, 4096);
    runTransaction(app, prng(1), 1);
    app.close();
    expect(replicate(other, 'ahead').status).toBe(1); // no state: its history differs → DIVERGED
    const before = await headSha('ahead');
    // a's own state says TXID N; push from a third copy that adopts the server (same bytes as a) and writes on.
    const third = path.join(dir, 'ahead-third.db');
    copyFileSync(a, third);
    if (existsSync(`${a}-wal`)) copyFileSync(`${a}-wal`, `${third}-wal`);
    expect(events(replicate(third, 'ahead').stdout).find((e) => e.event === 'start')?.action).toBe('in-sync');
    const app3 = openAppDatabase(third, 4096);
    runTransaction(app3, prng(2), 1);
    app3.close();
    ok(replicate(third, 'ahead'));
    expect(await headSha('ahead')).not.toBe(before);
    // a now finds the server past its last push.
    const app1 = openAppDatabase(a, 4096);
    runTransaction(app1, prng(3), 1);
    app1.close();
    const r = replicate(a, 'ahead');
    expect(r.status).toBe(1);
    expect(events(r.stdout).find((e) => e.event === 'fatal')?.code).toBe('SERVER_AHEAD');
  });
});
