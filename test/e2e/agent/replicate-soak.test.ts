// Soak: an application opening, writing, checkpointing, switching journal mode, VACUUMing and closing in a loop, its file now and then replaced, and the real agent SIGTERMed and restarted at random points — the server's head equals the file after every close and every stop.
//
// `npm test` runs a short seeded run; `npm run soak:agent` a long one (LTX_AGENT_SOAK_SESSIONS,
// LTX_AGENT_SOAK_SEED). Every stop must exit 0 with the file's content pushed (the SIGTERM flush);
// every close while the agent runs must be on the server within two sync intervals (plus an
// allowance for the push itself on a loaded machine); no push may ever be refused.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { databaseChecksum, formatHex64 } from '../../../src/ltx/index.ts';
import { databaseImage, sha256 } from '../../helpers/agent-workload.ts';
import { AgentProcess } from '../../helpers/agent-process.ts';
import { type DevServer, devFetch, startDevServer } from '../../helpers/dev-server.ts';
import { APP_SCHEMA, AppError, PythonApp } from '../../helpers/python-app.ts';
import { prng } from '../../helpers/prng.ts';

const SEED = Number(process.env.LTX_AGENT_SOAK_SEED ?? 20261207);
const SESSIONS = Number(process.env.LTX_AGENT_SOAK_SESSIONS ?? 24);
const INTERVAL_MS = 250;
/** On top of two intervals, the time one push may take on a loaded 2-core machine (wrangler, Python and the agent share it). */
const PUSH_ALLOWANCE_MS = Number(process.env.LTX_AGENT_SOAK_ALLOWANCE_MS ?? 2_000);
const MODES = ['PASSIVE', 'FULL', 'RESTART', 'TRUNCATE'] as const;

let server: DevServer;
let dir: string;
const agents: AgentProcess[] = [];
let app: PythonApp | undefined;

beforeAll(async () => {
  server = await startDevServer();
  dir = mkdtempSync(path.join(tmpdir(), 'ltx-agent-soak-'));
}, 120_000);

afterAll(async () => {
  for (const a of agents) await a.stop('SIGKILL');
  await app?.exit();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The database as SQLite reads it now, and its LTX checksum (what the server's head must carry). */
function image(file: string): { bytes: Uint8Array; checksum: string } {
  const bytes = databaseImage(file, `${file}.image`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pageSize = v.getUint16(16) === 1 ? 65536 : v.getUint16(16);
  const commit = bytes.length / pageSize;
  const checksum = databaseChecksum(pageSize, commit, (pgno) => bytes.subarray((pgno - 1) * pageSize, pgno * pageSize));
  return { bytes, checksum: formatHex64(checksum) };
}

async function serverChecksum(db: string): Promise<string | undefined> {
  const res = await devFetch(server, `/v1/databases/${db}`);
  if (res.status !== 200) return undefined;
  return ((await res.json()) as { pos: { postApplyChecksum: string } }).pos.postApplyChecksum;
}

async function expectSnapshot(db: string, want: Uint8Array): Promise<void> {
  const res = await devFetch(server, `/v1/databases/${db}/snapshot`);
  expect(res.status).toBe(200);
  expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(sha256(want));
}

it(
  `the server equals the file after every close and stop, ${SESSIONS} sessions (seed ${SEED})`,
  async () => {
    console.log(`agent soak seed ${SEED}, ${SESSIONS} sessions`);
    const r = prng(SEED);
    const file = path.join(dir, 'app.db');
    const db = 'agent-soak';
    const stats = {
      closes: 0,
      stops: 0,
      replaced: 0,
      vacuums: 0,
      switches: { refused: 0, done: 0 },
      checkpoints: Object.fromEntries(MODES.map((m) => [m, { done: 0, busy: 0 }])),
      convergeMs: [] as number[],
    };
    let writes = 0;
    /** What the application did lately, for failure messages. */
    const trace: string[] = [];
    const did = (what: string): void => {
      trace.push(what);
      if (trace.length > 30) trace.shift();
    };
    const a = (app = new PythonApp());
    await a.open(file);
    await a.script(APP_SCHEMA);
    await a.write(200, SEED);
    await a.close();

    let agent: AgentProcess | undefined;
    const startAgent = async (): Promise<AgentProcess> => {
      const p = AgentProcess.follow(server.url, file, db, ['--interval', `${INTERVAL_MS}ms`]);
      agents.push(p);
      await p.waitFor((e) => e.event === 'start' || e.event === 'fatal');
      expect(p.events.filter((e) => e.event === 'fatal')).toEqual([]);
      return p;
    };
    /** SIGTERM while the application is idle: exit 0, and the server holds exactly the file. */
    const stopAgent = async (): Promise<void> => {
      const code = await agent!.stop('SIGTERM');
      expect({ code, fatal: agent!.events.filter((e) => e.event === 'fatal') }).toEqual({ code: 0, fatal: [] });
      const want = image(file);
      expect(await serverChecksum(db)).toBe(want.checksum);
      await expectSnapshot(db, want.bytes);
      agent = undefined;
      stats.stops++;
    };
    /**
     * After a close at `closedAt`: waits on the agent's events until the head has the file's checksum,
     * and returns when the event after which it had it arrived (0 when it already had it). The file is
     * read again after each event: switching a database back to WAL mode (after the application left
     * it, or after a replacement) is itself a change to page 1.
     */
    const converge = async (closedAt: number): Promise<number> => {
      // Well past the bound asserted at the end, so that a miss reports what the agent did.
      const deadline = closedAt + 2 * INTERVAL_MS + PUSH_ALLOWANCE_MS + 15_000;
      let want = image(file);
      let seen = agent!.events.length;
      for (let head = await serverChecksum(db); head !== want.checksum; head = await serverChecksum(db)) {
        const left = deadline - performance.now();
        if (left <= 0)
          throw new Error(`the server stayed at ${head}, the file is at ${want.checksum}\nstderr:\n${agent!.errors.slice(-3000)}`);
        await agent!.waitFor(() => true, seen, left).catch(() => undefined);
        seen = agent!.events.length;
        want = image(file);
      }
      await expectSnapshot(db, want.bytes);
      return Math.max(0, (agent!.arrivals[seen - 1] ?? closedAt) - closedAt);
    };

    agent = await startAgent();
    try {
      await soak();
    } catch (e) {
      throw new Error(
        `${(e as Error).message}\nthe application did: ${trace.join(', ')}\nthe agent's last events:\n${(agent?.events ?? [])
          .slice(-8)
          .map((x) => JSON.stringify(x))
          .join('\n')}`,
        { cause: e },
      );
    }
    async function soak(): Promise<void> {
      for (let session = 0; session < SESSIONS; session++) {
        if (session > 0 && r.int(5) === 0) {
          // A new database renamed over the old one (SQLite's rule: its old -wal and -shm go with it).
          const next = `${file}.next`;
          rmSync(next, { force: true });
          await a.open(file);
          await a.exec('VACUUM INTO ?', [next]);
          await a.close();
          await a.open(next);
          await a.write(1 + r.int(100), SEED + ++writes);
          await a.close();
          renameSync(next, file);
          did('replaced the file');
          rmSync(`${file}-wal`, { force: true });
          rmSync(`${file}-shm`, { force: true });
          stats.replaced++;
        }
        if (!agent && r.int(2) === 0) agent = await startAgent();
        await a.open(file);
        did(`session ${session} (agent ${agent ? 'up' : 'down'})`);
        for (let step = 1 + r.int(6); step > 0; step--) {
          await a.write(1 + r.int(150), SEED + ++writes);
          did('wrote');
          const roll = r.int(10);
          if (roll <= 1) {
            const mode = MODES[r.int(MODES.length)];
            await a.exec('PRAGMA busy_timeout = 200');
            const [[busy]] = await a.exec(`PRAGMA wal_checkpoint(${mode})`);
            await a.exec('PRAGMA busy_timeout = 5000');
            stats.checkpoints[mode][busy ? 'busy' : 'done']++;
            did(`checkpoint ${mode} ${busy ? 'busy' : 'done'}`);
          } else if (roll === 2) {
            const to = r.int(3) === 0 ? 'WAL' : 'DELETE';
            await a.exec('PRAGMA busy_timeout = 200');
            try {
              await a.exec(`PRAGMA journal_mode = ${to}`);
              stats.switches.done++;
              did(`journal_mode ${to}`);
            } catch (e) {
              // Leaving WAL mode needs an exclusive lock, which a running agent's connections refuse.
              if (!(e instanceof AppError) || e.code !== 'SQLITE_BUSY') throw e;
              stats.switches.refused++;
              did(`journal_mode ${to} refused`);
            }
            await a.exec('PRAGMA busy_timeout = 5000');
          } else if (roll === 3) {
            await a.exec('VACUUM');
            stats.vacuums++;
            did('VACUUM');
          } else if (roll === 4) {
            if (agent) await stopAgent();
            else agent = await startAgent();
            did(agent ? 'started the agent' : 'stopped the agent');
          }
        }
        await a.close();
        const closedAt = performance.now();
        did('closed');
        stats.closes++;
        if (agent) stats.convergeMs.push(await converge(closedAt));
        else {
          agent = await startAgent();
          await converge(closedAt);
        }
      }
    }
    await stopAgent();
    // An independent SQLite (the sqlite3 command-line shell) backs up the file and the server's snapshot alike: the copies agree.
    const snapshot = path.join(dir, 'snapshot.db');
    const res = await devFetch(server, `/v1/databases/${db}/snapshot`);
    writeFileSync(snapshot, new Uint8Array(await res.arrayBuffer()));
    expect(sqliteBackup(file, path.join(dir, 'file.backup'))).toBe(sqliteBackup(snapshot, path.join(dir, 'snapshot.backup')));

    const rescans: Record<string, number> = {};
    for (const p of agents) for (const e of p.events) if (e.event === 'rescan') rescans[String(e.why)] = (rescans[String(e.why)] ?? 0) + 1;
    const sorted = [...stats.convergeMs].sort((x, y) => x - y);
    console.log(
      JSON.stringify({
        ...stats,
        convergeMs: { n: sorted.length, p50: Math.round(sorted[sorted.length >> 1] ?? 0), max: Math.round(sorted.at(-1) ?? 0) },
        rescans,
      }),
    );
    expect(agents.flatMap((p) => p.events.filter((e) => e.event === 'fatal'))).toEqual([]);
    expect(sorted.at(-1) ?? 0).toBeLessThanOrEqual(2 * INTERVAL_MS + PUSH_ALLOWANCE_MS);
    expect(existsSync(file)).toBe(true);
  },
  120_000 + SESSIONS * 20_000,
);

/** `sqlite3 <file> ".backup <out>"` by the Debian shell; the sha256 of the copy. */
function sqliteBackup(file: string, out: string): string {
  rmSync(out, { force: true });
  const r = spawnSync('sqlite3', [file, `.backup ${out}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sqlite3 .backup: ${r.stderr}`);
  return sha256(new Uint8Array(readFileSync(out)));
}
