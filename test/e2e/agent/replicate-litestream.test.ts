// What Litestream users run: `replicate --config` (many databases, ${VAR}), `--exec` (exit codes, signals), `--metrics-addr`, and `restore --if-db-not-exists / --if-replica-exists`.

import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseImage, openAppDatabase, runTransaction, sha256 } from '../../helpers/agent-workload.ts';
import { AgentProcess } from '../../helpers/agent-process.ts';
import { DEV_TOKEN, type DevServer, devFetch, startDevServer } from '../../helpers/dev-server.ts';
import { prng } from '../../helpers/prng.ts';
import { runCLIAsync } from '../../helpers/run-cli.ts';

let server: DevServer;
let dir: string;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  server = await startDevServer();
  dir = mkdtempSync(path.join(tmpdir(), 'ltx-agent-litestream-'));
}, 120_000);

afterAll(async () => {
  for (const a of agents) await a.stop('SIGKILL');
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

/** `n` more transactions on `file` from this process. */
function write(file: string, seed: number, n: number): void {
  const app = openAppDatabase(file, 4096);
  const r = prng(seed);
  for (let i = 0; i < n; i++) runTransaction(app, r, 1_000 + i);
  app.close();
}

async function serverSha(db: string): Promise<string> {
  const res = await devFetch(server, `/v1/databases/${db}/snapshot`);
  expect(res.status, db).toBe(200);
  return sha256(new Uint8Array(await res.arrayBuffer()));
}

async function expectReplicated(file: string, db: string): Promise<void> {
  expect(await serverSha(db)).toBe(sha256(databaseImage(file, `${file}.image`)));
}

function configFile(name: string, yaml: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, yaml);
  return file;
}

function events(stdout: string): Record<string, unknown>[] {
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function start(argv: string[], env: NodeJS.ProcessEnv = {}): AgentProcess {
  const a = new AgentProcess(argv, env);
  agents.push(a);
  return a;
}

describe('replicate --config', () => {
  it('follows two databases from one process, with $' + '{VAR} and $VAR expanded from the environment', async () => {
    const a = makeDatabase('cfg-a.db', 1, 20);
    const b = makeDatabase('cfg-b.db', 2, 30);
    const config = configFile(
      'two.yml',
      `url: \${LTX_TEST_URL}\ntoken: $LTX_TEST_TOKEN\ndatabases:\n  - path: ${a}\n    db: cfg-a\n  - path: ${b}\n    db: \${LTX_TEST_DB_B}\n`,
    );
    const env = {
      LTX_TEST_URL: server.url,
      LTX_TEST_TOKEN: DEV_TOKEN,
      LTX_TEST_DB_B: 'cfg-b',
      LTX_EDGE_TOKEN: undefined,
      LTX_EDGE_URL: undefined,
    };
    const r = await runCLIAsync(['replicate', '--config', config, '--once', '--json'], { env });
    expect(r.status, r.stderr).toBe(0);
    const starts = events(r.stdout).filter((e) => e.event === 'start');
    expect(starts.map((e) => e.db).sort()).toEqual(['cfg-a', 'cfg-b']);
    await expectReplicated(a, 'cfg-a');
    await expectReplicated(b, 'cfg-b');
  });

  it('50 databases, one of them not SQLite: the 49 are replicated, the bad one is reported by name and the exit is 1', async () => {
    const files = Array.from({ length: 50 }, (_, i) => makeDatabase(`many-${i}.db`, 100 + i, 3));
    writeFileSync(files[17], 'this is not a database, it is a text file of more than one hundred bytes '.repeat(3));
    const config = configFile(
      'fifty.yml',
      `url: ${server.url}\ndatabases:\n${files.map((f, i) => `  - path: ${f}\n    db: many-${i}\n`).join('')}`,
    );
    const r = await runCLIAsync(['replicate', '--config', config, '--once', '--json'], { env: { LTX_EDGE_TOKEN: DEV_TOKEN } });
    expect(r.status, r.stderr).toBe(1);
    const fatal = events(r.stdout).filter((e) => e.event === 'fatal');
    expect(fatal).toEqual([expect.objectContaining({ db: 'many-17', code: 'NOT_SQLITE' })]);
    for (const [i, f] of files.entries()) if (i !== 17) await expectReplicated(f, `many-${i}`);
    expect((await devFetch(server, '/v1/databases/many-17')).status).toBe(404);
  }, 120_000);

  it('keeps following the others while one fails, and exits 1 when stopped with that one never synced', async () => {
    const good = makeDatabase('live-good.db', 3, 10);
    const bad = path.join(dir, 'live-bad.db');
    writeFileSync(bad, 'x'.repeat(4096));
    const config = configFile('live.yml', `databases:\n  - path: ${good}\n    db: live-good\n  - path: ${bad}\n    db: live-bad\n`);
    const agent = start(['replicate', '--config', config, '--url', server.url, '--interval', '50ms', '--json']);
    await agent.waitFor((e) => e.event === 'fatal' && e.db === 'live-bad');
    const pushed = agent.events.length;
    write(good, 4, 15);
    await agent.waitFor((e) => e.event === 'push' && e.db === 'live-good', pushed);
    expect(await agent.stop('SIGTERM')).toBe(1);
    await expectReplicated(good, 'live-good');
  });

  it.each([
    ['an unknown key', 'url: http://x\ndatabases:\n  - path: a.db\n    dbname: a\n', /databases\[0\]: unknown key "dbname"/],
    ['no databases', 'url: http://x\n', /databases: a list of at least one/],
    ['a path missing', 'url: http://x\ndatabases:\n  - db: a\n', /databases\[0\]\.path: the SQLite file is required/],
    [
      'the same name twice',
      'url: http://x\ndatabases:\n  - path: a.db\n  - path: b/a.db\n',
      /databases\[1\]\.db: the same database name as databases\[0\]/,
    ],
    ['a bad interval', 'url: http://x\ninterval: soon\ndatabases:\n  - path: a.db\n', /interval: invalid duration: soon/],
    ['not YAML', 'databases: [\n', /not valid YAML/],
    ['no URL anywhere', 'databases:\n  - path: a.db\n', /databases\[0\]\.url: no server URL/],
  ])('%s: a usage error naming the file and the key (exit 2)', async (_what, yaml, message) => {
    const config = configFile('bad.yml', yaml);
    const r = await runCLIAsync(['replicate', '--config', config], { env: { LTX_EDGE_URL: undefined } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(config);
    expect(r.stderr).toMatch(message);
  });
});

describe('replicate --exec', () => {
  const node = JSON.stringify(process.execPath);

  it('runs the command after the first sync, pushes what it committed when it exits, and exits with its code', async () => {
    const file = makeDatabase('exec.db', 5, 5);
    const child = `${node} -e "const {DatabaseSync}=require('node:sqlite'); const d=new DatabaseSync(process.argv[1]); for (let i=0;i<40;i++) d.exec('INSERT INTO items(name,qty,body) VALUES (\\'exec\\','+i+',randomblob(300))'); d.close(); process.exit(3)" ${JSON.stringify(file)}`;
    const r = await runCLIAsync(['replicate', file, '--url', server.url, '--db', 'exec-db', '--exec', child, '--json'], {
      env: { LTX_EDGE_TOKEN: DEV_TOKEN },
    });
    expect(r.status, r.stderr).toBe(3);
    const evs = events(r.stdout).map((e) => e.event);
    expect(evs.indexOf('exec')).toBeGreaterThan(evs.indexOf('start'));
    expect(evs.indexOf('exit')).toBeGreaterThan(evs.indexOf('exec'));
    expect(evs.at(-1)).toBe('stop');
    await expectReplicated(file, 'exec-db');
  });

  it('forwards SIGTERM to the command, waits for it, pushes what its handler committed, and exits with its code', async () => {
    const file = makeDatabase('exec-signal.db', 6, 5);
    const marker = path.join(dir, 'exec-signal.ready');
    const script = [
      "const {DatabaseSync}=require('node:sqlite'); const fs=require('node:fs');",
      'const d=new DatabaseSync(process.argv[1]);',
      "process.on('SIGTERM',()=>{d.exec('INSERT INTO items(name,qty,body) VALUES (\\'bye\\',1,randomblob(500))'); d.close(); process.exit(7)});",
      "fs.writeFileSync(process.argv[2],'ready'); setInterval(()=>{},1000);",
    ].join('');
    const agent = start([
      'replicate',
      file,
      '--url',
      server.url,
      '--db',
      'exec-signal',
      '--json',
      '--exec',
      `${node} -e "${script}" ${JSON.stringify(file)} ${JSON.stringify(marker)}`,
    ]);
    await agent.waitFor((e) => e.event === 'exec');
    await waitForFile(marker);
    expect(await agent.stop('SIGTERM')).toBe(7);
    expect(agent.events.find((e) => e.event === 'exit')).toMatchObject({ code: 7 });
    await expectReplicated(file, 'exec-signal');
    const rows = await devFetch(server, '/v1/databases/exec-signal/query', {
      method: 'POST',
      body: JSON.stringify({ sql: "SELECT count(*) FROM items WHERE name = 'bye'" }),
    });
    expect(((await rows.json()) as { rows: unknown[][] }).rows).toEqual([[1]]);
  });
});

describe('replicate --metrics-addr', () => {
  it('serves Prometheus text per database, and the values move as pushes happen', async () => {
    const file = makeDatabase('metrics.db', 7, 5);
    const config = configFile('metrics.yml', `url: ${server.url}\ndatabases:\n  - path: ${file}\n    db: metrics-db\n`);
    const agent = start(['replicate', '--config', config, '--interval', '50ms', '--metrics-addr', '127.0.0.1:0', '--json']);
    const url = (await agent.waitFor((e) => e.event === 'metrics')).url as string;
    await agent.waitFor((e) => e.event === 'push');
    const before = parseMetrics(await (await fetch(url)).text());
    for (const name of [
      'ltx_edge_agent_position_txid',
      'ltx_edge_agent_push_total',
      'ltx_edge_agent_push_bytes_total',
      'ltx_edge_agent_push_errors_total',
      'ltx_edge_agent_lag_seconds',
      'ltx_edge_agent_wal_bytes',
      'ltx_edge_agent_checkpoint_total',
    ]) {
      expect(before.get(`${name}{db="metrics-db"}`), name).toBeTypeOf('number');
    }
    expect(before.get('ltx_edge_agent_push_total{db="metrics-db"}')).toBeGreaterThanOrEqual(1);
    const from = agent.events.length;
    write(file, 8, 1_500); // past 1,000 WAL pages: a checkpoint too
    await agent.waitFor((e) => e.event === 'checkpoint', from);
    const after = parseMetrics(await (await fetch(url)).text());
    expect(after.get('ltx_edge_agent_push_total{db="metrics-db"}')).toBeGreaterThan(
      before.get('ltx_edge_agent_push_total{db="metrics-db"}')!,
    );
    expect(after.get('ltx_edge_agent_push_bytes_total{db="metrics-db"}')).toBeGreaterThan(
      before.get('ltx_edge_agent_push_bytes_total{db="metrics-db"}')!,
    );
    expect(after.get('ltx_edge_agent_position_txid{db="metrics-db"}')).toBeGreaterThan(
      before.get('ltx_edge_agent_position_txid{db="metrics-db"}')!,
    );
    expect(after.get('ltx_edge_agent_checkpoint_total{db="metrics-db"}')).toBeGreaterThanOrEqual(1);
    expect((await fetch(url.replace('/metrics', '/nope'))).status).toBe(404);
    expect(await agent.stop('SIGTERM')).toBe(0);
  });
});

describe('restore --if-db-not-exists / --if-replica-exists', () => {
  it('--if-db-not-exists: an existing output is left alone (exit 0); a missing one is restored', async () => {
    const file = makeDatabase('rst-src.db', 9, 10);
    expect(
      (await runCLIAsync(['replicate', file, '--url', server.url, '--db', 'rst', '--once'], { env: { LTX_EDGE_TOKEN: DEV_TOKEN } })).status,
    ).toBe(0);
    const out = path.join(dir, 'rst-out.db');
    writeFileSync(out, 'mine');
    const before = statSync(out).mtimeMs;
    const env = { LTX_EDGE_TOKEN: DEV_TOKEN };
    const kept = await runCLIAsync(['restore', server.url, 'rst', '-o', out, '--if-db-not-exists'], { env });
    expect(kept.status, kept.stderr).toBe(0);
    expect(kept.stderr).toMatch(/already exists/);
    expect(readFileSync(out, 'utf8')).toBe('mine');
    expect(statSync(out).mtimeMs).toBe(before);
    rmSync(out);
    const restored = await runCLIAsync(['restore', server.url, 'rst', '-o', out, '--if-db-not-exists'], { env });
    expect(restored.status, restored.stderr).toBe(0);
    expect(sha256(readFileSync(out))).toBe(await serverSha('rst'));
  });

  it('--if-replica-exists: a database the server does not have writes nothing (exit 0); without the flag it is an error', async () => {
    const out = path.join(dir, 'nothing.db');
    const env = { LTX_EDGE_TOKEN: DEV_TOKEN };
    const skipped = await runCLIAsync(['restore', server.url, 'no-such-db', '-o', out, '--if-replica-exists', '--json'], { env });
    expect(skipped.status, skipped.stderr).toBe(0);
    expect(JSON.parse(skipped.stdout)).toMatchObject({ skipped: true });
    expect(() => statSync(out)).toThrow();
    const failed = await runCLIAsync(['restore', server.url, 'no-such-db', '-o', out], { env });
    expect(failed.status).toBe(1);
    expect(() => statSync(out)).toThrow();
  });
});

/** `name{labels} value` lines → a map (comments skipped). */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

async function waitForFile(file: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      statSync(file);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`${file} never appeared`);
}
