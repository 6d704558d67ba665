// Every way the files can part from the agent's view — the application's close, its checkpoints, journal-mode switches, a replaced database or WAL, a lost read — detected and converged within one sync.
//
// The application is a Python sqlite3 process (another SQLite build, real cross-process locks); the
// agent runs in this process so each step is one `sync()`. After each, the server's head must equal
// the database as SQLite reads it (a copy of the file and its WAL, checkpointed by SQLite itself).

import { closeSync, existsSync, mkdtempSync, openSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Replicator } from '../../../src/agent/replicator.ts';
import type { AgentEvent, ReplicatorOptions } from '../../../src/agent/replicator-options.ts';
import { ApiClient } from '../../../src/remote/http-client.ts';
import { databaseImage, sha256 } from '../../helpers/agent-workload.ts';
import { DEV_TOKEN, type DevServer, devFetch, startDevServer } from '../../helpers/dev-server.ts';
import { APP_SCHEMA, PythonApp } from '../../helpers/python-app.ts';

let server: DevServer;
let dir: string;
const apps: PythonApp[] = [];
const agents: Replicator[] = [];

beforeAll(async () => {
  server = await startDevServer();
  dir = mkdtempSync(path.join(tmpdir(), 'ltx-agent-view-'));
}, 120_000);

afterAll(async () => {
  for (const a of agents) await a.close().catch(() => undefined);
  for (const a of apps) await a.exit();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function app(): PythonApp {
  const a = new PythonApp();
  apps.push(a);
  return a;
}

/** A database of `rows` transactions made by the application, which then closes it. */
async function seeded(name: string, rows: number, seed: number): Promise<string> {
  const file = path.join(dir, `${name}.db`);
  const a = app();
  await a.open(file);
  await a.script(APP_SCHEMA);
  await a.write(rows, seed);
  await a.close();
  await a.exit();
  return file;
}

/** An agent in this process, started and synced once; `events` are what `replicate --json` would print. */
async function follow(
  file: string,
  db: string,
  opts: Partial<ReplicatorOptions> = {},
): Promise<{ agent: Replicator; events: AgentEvent[] }> {
  const events: AgentEvent[] = [];
  const agent = new Replicator({
    file,
    db,
    client: new ApiClient({ url: server.url, token: DEV_TOKEN }),
    onEvent: (e) => events.push(e),
    ...opts,
  });
  agents.push(agent);
  await agent.start();
  await agent.sync();
  events.length = 0;
  return { agent, events };
}

/** The server's head equals the database as SQLite reads it now, byte for byte. */
async function expectConverged(file: string, db: string): Promise<void> {
  const res = await devFetch(server, `/v1/databases/${db}/snapshot`);
  expect(res.status).toBe(200);
  const snapshot = new Uint8Array(await res.arrayBuffer());
  expect(sha256(snapshot)).toBe(sha256(databaseImage(file, `${file}.image`)));
}

/** What POSIX does to every lock this process holds on `file` when any descriptor of it is closed. */
function dropLocksOf(file: string): void {
  closeSync(openSync(file, 'r'));
}

const rescans = (events: AgentEvent[]): string[] => events.flatMap((e) => (e.event === 'rescan' ? [e.why] : []));

describe('the application closes its database', () => {
  it('its last close leaves the WAL to the agent, and one sync pushes every transaction', async () => {
    const file = await seeded('close', 400, 1);
    const db = 'view-close';
    const { agent, events } = await follow(file, db);
    const a = app();
    for (let session = 0; session < 3; session++) {
      await a.open(file);
      await a.write(700, 100 + session);
      // A sync mid-session: the agent checkpoints the long WAL under the application.
      if (session === 1) await agent.sync();
      await a.write(700, 200 + session);
      await a.close();
      expect(existsSync(`${file}-wal`)).toBe(true);
      await agent.sync();
      await expectConverged(file, db);
    }
    expect(events.some((e) => e.event === 'checkpoint')).toBe(true);
    expect(rescans(events)).toEqual([]);
  });

  it("when something in the agent's process dropped its locks and the close deleted the WAL, the agent says so and rescans instead of checkpointing a WAL that is gone", async () => {
    const file = await seeded('dropped', 400, 2);
    const db = 'view-dropped';
    const { agent, events } = await follow(file, db);
    dropLocksOf(file);
    const a = app();
    await a.open(file);
    await a.write(1_500, 3);
    await a.close();
    expect(existsSync(`${file}-wal`)).toBe(false);
    await agent.sync();
    expect(events[0]).toEqual({ event: 'rescan', why: 'the WAL was deleted' });
    expect(events.filter((e) => e.event === 'checkpoint')).toEqual([]);
    await expectConverged(file, db);
    // The new hold's locks work again: the next close leaves the WAL in place.
    await a.open(file);
    await a.write(300, 4);
    await a.close();
    expect(existsSync(`${file}-wal`)).toBe(true);
    await agent.sync();
    await expectConverged(file, db);
    expect(rescans(events)).toEqual(['the WAL was deleted']);
  });
});

describe.each(['PASSIVE', 'FULL', 'RESTART', 'TRUNCATE'])('the application checkpoints (%s)', (mode) => {
  it.each([
    // The application writes before the agent starts, so the agent's read holds a mark inside the WAL: restarts must wait for it.
    ['while the agent reads inside the WAL', true],
    // The agent copies the whole WAL after each sync and reads at mark 0: the application may restart or truncate the WAL under it.
    ['while the agent reads a wholly copied WAL', false],
  ])('%s: converged in one sync, without a rescan', async (what, inside) => {
    const name = `ckpt-${mode.toLowerCase()}-${inside ? 'inside' : 'copied'}`;
    const file = await seeded(name, 300, 5);
    const db = `view-${name}`;
    const a = app();
    await a.open(file, { timeout: 0.2 });
    if (inside) await a.write(100, 6);
    const { agent, events } = await follow(file, db, { checkpointPages: inside ? 1_000_000 : 1 });
    for (let round = 0; round < 3; round++) {
      const [[busy]] = await a.exec(`PRAGMA wal_checkpoint(${mode})`);
      if (mode === 'RESTART' || mode === 'TRUNCATE') expect({ what, round, busy }).toEqual({ what, round, busy: inside ? 1 : 0 });
      await a.write(150, 10 + round);
      await agent.sync();
      await expectConverged(file, db);
    }
    await a.close();
    await agent.sync();
    await expectConverged(file, db);
    expect(rescans(events)).toEqual([]);
  });
});

describe('the application switches journal mode', () => {
  it('while the agent holds the database, leaving WAL mode is refused (SQLITE_BUSY) and nothing is lost', async () => {
    const file = await seeded('jm-held', 200, 20);
    const db = 'view-jm-held';
    const { agent, events } = await follow(file, db);
    const a = app();
    await a.open(file, { timeout: 0.2 });
    await expect(a.exec('PRAGMA journal_mode = DELETE')).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    expect(await a.exec('PRAGMA journal_mode')).toEqual([['wal']]);
    await a.write(200, 21);
    await a.close();
    await agent.sync();
    await expectConverged(file, db);
    expect(rescans(events)).toEqual([]);
  });

  it.each([
    ['to DELETE and stays there', false],
    ['to DELETE and back to WAL', true],
  ])("with the agent's locks dropped, %s: detected, WAL mode restored, converged", async (_what, back) => {
    const name = back ? 'jm-back' : 'jm-delete';
    const file = await seeded(name, 200, 22);
    const db = `view-${name}`;
    const { agent, events } = await follow(file, db);
    dropLocksOf(file);
    const a = app();
    await a.open(file);
    expect(await a.exec('PRAGMA journal_mode = DELETE')).toEqual([['delete']]);
    await a.write(150, 23);
    if (back) {
      expect(await a.exec('PRAGMA journal_mode = WAL')).toEqual([['wal']]);
      await a.write(150, 24);
    }
    await a.close();
    await agent.sync();
    expect(rescans(events)).toEqual([back ? 'the WAL was deleted' : 'the database left WAL mode']);
    await expectConverged(file, db);
    await a.open(file);
    expect(await a.exec('PRAGMA journal_mode')).toEqual([['wal']]);
    await a.write(100, 25);
    await a.close();
    await agent.sync();
    await expectConverged(file, db);
  });
});

describe('files replaced under the agent', () => {
  it('a database renamed over (its old WAL removed with it): the new file is replicated, then followed', async () => {
    const file = await seeded('replaced', 300, 30);
    const db = 'view-replaced';
    const { agent, events } = await follow(file, db);
    const other = await seeded('replacement', 500, 31);
    renameSync(other, file);
    rmSync(`${file}-wal`);
    rmSync(`${file}-shm`);
    await agent.sync();
    expect(rescans(events)).toEqual(['the database file was replaced']);
    await expectConverged(file, db);
    const a = app();
    await a.open(file);
    await a.write(200, 32);
    await a.close();
    expect(existsSync(`${file}-wal`)).toBe(true);
    await agent.sync();
    await expectConverged(file, db);
  });

  it('a database renamed over while the old WAL still lies beside it: the agent waits and pushes nothing until that WAL is gone', async () => {
    const file = await seeded('replaced-hot', 300, 33);
    const db = 'view-replaced-hot';
    const { agent } = await follow(file, db);
    const a = app();
    await a.open(file);
    await a.write(100, 34);
    await a.close();
    await agent.sync();
    const before = await (await devFetch(server, `/v1/databases/${db}`)).json();
    renameSync(await seeded('replacement-hot', 200, 35), file);
    await expect(agent.sync()).rejects.toThrow(/still holds the old database's frames/);
    await expect(agent.sync()).rejects.toThrow(/still holds the old database's frames/);
    expect(await (await devFetch(server, `/v1/databases/${db}`)).json()).toEqual(before);
    rmSync(`${file}-wal`);
    rmSync(`${file}-shm`);
    await agent.sync();
    await expectConverged(file, db);
  });

  it('a WAL replaced (deleted by a close that ignored the agent, then created anew by the next session): detected while the application writes', async () => {
    const file = await seeded('wal-replaced', 300, 36);
    const db = 'view-wal-replaced';
    const { agent, events } = await follow(file, db);
    dropLocksOf(file);
    const a = app();
    await a.open(file);
    await a.write(300, 37);
    await a.close();
    await a.open(file);
    await a.write(300, 38);
    await agent.sync();
    expect(rescans(events)).toEqual(['the WAL was replaced']);
    await expectConverged(file, db);
    await a.write(300, 39);
    await a.close();
    await agent.sync();
    await expectConverged(file, db);
  });
});

it('a lost read transaction: the application truncates the WAL meanwhile; detected and converged', async () => {
  const file = await seeded('read-lost', 300, 40);
  const db = 'view-read-lost';
  const { agent, events } = await follow(file, db);
  (agent as unknown as { hold: { endRead(): void } }).hold.endRead();
  const a = app();
  await a.open(file);
  await a.write(200, 41);
  expect(await a.exec('PRAGMA wal_checkpoint(TRUNCATE)')).toEqual([[0, 0, 0]]);
  await a.write(200, 42);
  await a.close();
  await agent.sync();
  expect(rescans(events)).toEqual(['the read transaction was lost']);
  await expectConverged(file, db);
});

it("the start-up race: the application restarts the WAL between the agent's first scan and its snapshot push", async () => {
  const file = path.join(dir, 'race.db');
  const db = 'view-race';
  const a = app();
  await a.open(file);
  await a.script(APP_SCHEMA);
  // One transaction writes every page once; a checkpoint copies it all, leaving the WAL's frames in place.
  await a.exec(`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000)
    INSERT INTO items (name, qty, body) SELECT 'seed-' || x, x, randomblob(200) FROM c`);
  expect(await a.exec('PRAGMA wal_checkpoint(PASSIVE)')).toEqual([[0, expect.any(Number), expect.any(Number)]]);
  const events: AgentEvent[] = [];
  const agent = new Replicator({ file, db, client: new ApiClient({ url: server.url, token: DEV_TOKEN }), onEvent: (e) => events.push(e) });
  agents.push(agent);
  await agent.start();
  // The agent read at mark 0, so this commit restarts the WAL and writes over the frames the snapshot was to send.
  await a.write(40, 43);
  await agent.sync();
  expect(events.filter((e) => e.event === 'push').map((e) => (e as { reason: string }).reason)).toEqual(['snapshot']);
  expect(rescans(events)).toEqual([expect.stringMatching(/was overwritten \(the WAL restarted\)/)]);
  await expectConverged(file, db);
  await a.write(100, 44);
  await a.close();
  await agent.sync();
  await expectConverged(file, db);
});

/** `PRAGMA wal_checkpoint(PASSIVE)` run by the application: frames in its WAL and frames it could copy into the database. */
async function appCheckpoint(a: PythonApp): Promise<{ log: number; copied: number }> {
  const [[, log, copied]] = (await a.exec('PRAGMA wal_checkpoint(PASSIVE)')) as number[][];
  return { log, copied };
}

describe("the agent's read never blocks the application's checkpoints for long (read mark 0)", () => {
  it('a WAL restarted under its read (mark 0, nothing copyable) is read again at a mark > 0 at the next sync', async () => {
    const file = await seeded('mark-sync', 10, 50);
    const db = 'view-mark-sync';
    const { agent } = await follow(file, db);
    const a = app();
    await a.open(file);
    await a.write(600, 51);
    await agent.sync(); // past 1,000 frames: the agent copies the whole WAL and reads again, at mark 0
    await a.write(5, 52); // the first commit restarts the WAL under that read
    const blocked = await appCheckpoint(a);
    expect(blocked.log).toBeGreaterThan(0);
    expect(blocked.copied).toBe(0);
    await agent.sync();
    await a.write(5, 53);
    const freed = await appCheckpoint(a);
    expect(freed.copied).toBeGreaterThan(0);
    expect(freed.copied).toBeLessThan(freed.log);
    await a.close();
    await agent.sync();
    await expectConverged(file, db);
  });

  it("after its own checkpoint, settleRead (the follow loop's first step between syncs) waits for the application's next commit and reads again", async () => {
    const file = await seeded('mark-wait', 10, 60);
    const db = 'view-mark-wait';
    const a = app();
    await a.open(file);
    let writing: Promise<unknown> | undefined;
    const { agent } = await follow(file, db, {
      onEvent: (e) => {
        if (e.event === 'checkpoint' && writing === undefined) writing = a.write(3, 62);
      },
    });
    await a.write(600, 61);
    await agent.sync(); // its checkpoint starts the application's commits
    await agent.settleRead(60_000); // returns once it has read again
    expect(writing).toBeDefined();
    await writing;
    await a.write(5, 63);
    const freed = await appCheckpoint(a);
    expect(freed.copied).toBeGreaterThan(0);
    expect(freed.copied).toBeLessThan(freed.log);
    await a.close();
    await agent.sync();
    await expectConverged(file, db);
  });
});
