// The agent killed (SIGKILL) at seeded points while the application keeps writing and checkpointing: the server ends with exactly the source database.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AgentProcess } from '../../helpers/agent-process.ts';
import { databaseImage, openAppDatabase, runTransaction, sha256 } from '../../helpers/agent-workload.ts';
import { DEV_TOKEN, type DevServer, startDevServer } from '../../helpers/dev-server.ts';
import { prng } from '../../helpers/prng.ts';
import { runCLI } from '../../helpers/run-cli.ts';

const SEED = Number(process.env.LTX_AGENT_SEED ?? 424242);
const ROUNDS = 10;

let server: DevServer;
let dir: string;

beforeAll(async () => {
  server = await startDevServer();
  dir = mkdtempSync(path.join(tmpdir(), 'ltx-agent-kill-'));
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it(`ends with exactly the source database after ${ROUNDS} kills (seed ${SEED})`, async () => {
  console.log(`agent kill seed ${SEED}`);
  const r = prng(SEED);
  const file = path.join(dir, 'app.db');
  const db = 'agent-kill';
  const app = openAppDatabase(file, 4096);
  let n = 0;
  try {
    for (let i = 0; i < 200; i++) runTransaction(app, r, n++);
    const actions = new Set<string>();
    for (let round = 0; round < ROUNDS; round++) {
      const agent = AgentProcess.follow(server.url, file, db, ['--interval', '20ms']);
      // Killed after a seeded number of pushes, while the application writes on: the kill lands mid-push, mid-checkpoint or idle.
      const killAfter = 1 + r.int(4);
      let pushes = 0;
      for (let i = 0; ; i++) {
        const e = await agent.waitFor(() => true, i);
        if (e.event === 'fatal') throw new Error(JSON.stringify(e));
        if (e.event === 'start') actions.add(String(e.action));
        if (e.event === 'push' && ++pushes >= killAfter) break;
        for (let k = 1 + r.int(30); k > 0; k--) runTransaction(app, r, n++);
      }
      await agent.stop('SIGKILL');
      // While it is down the application goes on, and sometimes checkpoints the WAL away itself.
      for (let k = r.int(300); k > 0; k--) runTransaction(app, r, n++);
      if (r.int(3) === 0) app.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    }
    const last = runCLI(['replicate', file, '--url', server.url, '--db', db, '--once', '--json'], { env: { LTX_EDGE_TOKEN: DEV_TOKEN } });
    expect(last.stderr).toBe('');
    expect(last.status).toBe(0);
    expect(actions.has('diff') || actions.has('in-sync')).toBe(true);
  } finally {
    app.close();
  }

  const auth = { authorization: `Bearer ${DEV_TOKEN}` };
  const snap = await fetch(`${server.url}/v1/databases/${db}/snapshot`, { headers: auth });
  expect(snap.status).toBe(200);
  expect(sha256(new Uint8Array(await snap.arrayBuffer()))).toBe(sha256(databaseImage(file, path.join(dir, 'image.db'))));

  // No gap, no duplicate: level-0 files cover 1..head exactly once.
  const info = (await (await fetch(`${server.url}/v1/databases/${db}`, { headers: auth })).json()) as { pos: { txid: string } };
  const files = (await (await fetch(`${server.url}/v1/databases/${db}/ltx?level=0`, { headers: auth })).json()) as
    | { files?: unknown[] }
    | unknown[];
  const list = (Array.isArray(files) ? files : (files.files ?? [])) as { minTXID: string; maxTXID: string }[];
  let next = 1n;
  for (const f of list) {
    expect(BigInt('0x' + f.minTXID)).toBe(next);
    next = BigInt('0x' + f.maxTXID) + 1n;
  }
  expect(next - 1n).toBe(BigInt('0x' + info.pos.txid));
}, 300_000);
