// Memory of a large `ltx-edge import`: builds a ~1 GiB SQLite file, imports it into a local wrangler dev, and samples
// the RSS of the CLI and of workerd every 200 ms. Not part of npm test (minutes, gigabytes of disk).
//
//   node scripts/measure-import-memory.ts [--mib 1024] [--page-size 4096] [--keep]
//
// Prints peak RSS of the CLI and of each workerd process (the one serving the Worker and its DOs, and
// wrangler's proxy), their baselines before the upload, and the throughput. Bounded memory means the
// peaks do not grow with --mib.

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { REPO_DIR, freePort, spawnWranglerDev, stopProcessGroup, waitForHealth } from './lib/wrangler-dev.ts';

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '1024' },
    'page-size': { type: 'string', default: '4096' },
    keep: { type: 'boolean', default: false },
  },
});
const MIB = Number(values.mib);
const PAGE_SIZE = Number(values['page-size']);
const BLOB_BYTES = 1 << 20;
const SAMPLE_MS = 200;
const TRACE_EVERY_MS = 10_000;
const TOKEN = 'dev-token';

/** Resident set size of `pid` in bytes (VmRSS, or VmHWM = its peak so far), undefined once it is gone. */
function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Every descendant of `root` with its command name. */
function descendants(root: number): { pid: number; comm: string }[] {
  const children = new Map<number, number[]>();
  const comm = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …; comm may contain spaces and parentheses, so split at the last ')'.
      const close = stat.lastIndexOf(')');
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      comm.set(Number(entry), stat.slice(stat.indexOf('(') + 1, close));
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // The process went away while we looked.
    }
  }
  const out: { pid: number; comm: string }[] = [];
  const walk = (pid: number): void => {
    for (const c of children.get(pid) ?? []) {
      out.push({ pid: c, comm: comm.get(c) ?? '?' });
      walk(c);
    }
  };
  walk(root);
  return out;
}

const mb = (bytes: number | undefined): string => (bytes === undefined ? '-' : `${(bytes / 2 ** 20).toFixed(0)} MiB`);

function buildDatabase(file: string): void {
  const started = performance.now();
  const db = new DatabaseSync(file);
  db.exec(`PRAGMA page_size = ${PAGE_SIZE}; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;`);
  db.exec('CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL)');
  const insert = db.prepare('INSERT INTO blobs (id, data) VALUES (?, ?)');
  db.exec('BEGIN');
  // Random bytes: LZ4 cannot shrink them, so the LTX file is as large as the database.
  for (let i = 1; i <= MIB; i++) insert.run(i, randomBytes(BLOB_BYTES));
  db.exec('COMMIT');
  db.close();
  const size = statSync(file).size;
  console.log(
    `built ${file}: ${(size / 2 ** 20).toFixed(0)} MiB, ${size / PAGE_SIZE} pages of ${PAGE_SIZE} bytes in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ltx-edge-measure-'));
  const file = path.join(dir, 'big.db');
  let wrangler: ChildProcess | undefined;
  try {
    buildDatabase(file);
    const size = statSync(file).size;

    const port = await freePort();
    const logFile = path.join(dir, 'wrangler.log');
    const fd = openSync(logFile, 'w');
    const args = ['--port', String(port), '--ip', '127.0.0.1', '--inspector-port', String(await freePort())];
    args.push('--persist-to', path.join(dir, 'state'), '--show-interactive-dev-session=false');
    wrangler = spawnWranglerDev(args, { detached: true, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const url = `http://127.0.0.1:${port}`;
    await waitForHealth(url, { child: wrangler });
    // One request first, so the Worker and a Durable Object are loaded in the baseline.
    await fetch(`${url}/v1/databases/warmup`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.body?.cancel());
    const findWorkerds = (): { pid: number; comm: string }[] => descendants(wrangler!.pid!).filter((p) => p.comm === 'workerd');
    const workerds = findWorkerds();
    if (workerds.length === 0) throw new Error('no workerd process found under wrangler');
    const baseline = new Map(workerds.map((w) => [w.pid, procStatus(w.pid, 'VmRSS')]));

    const cli = spawn(process.execPath, [path.join(REPO_DIR, 'bin/ltx-edge.js'), 'import', url, 'big', file, '--json', '--token', TOKEN], {
      cwd: REPO_DIR,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    cli.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    const peaks = new Map<number, number>();
    let cliPeak = 0;
    let cliHWM = 0;
    const started = performance.now();
    let ticks = 0;
    const timer = setInterval(() => {
      const rss = procStatus(cli.pid!, 'VmRSS');
      if (rss !== undefined) cliPeak = Math.max(cliPeak, rss);
      cliHWM = Math.max(cliHWM, procStatus(cli.pid!, 'VmHWM') ?? 0);
      // wrangler replaces workerd when it reloads (a source file changed): follow the new ones too.
      if (ticks % 5 === 0) for (const w of findWorkerds()) if (!workerds.some((x) => x.pid === w.pid)) workerds.push(w);
      const now = workerds.map((w) => procStatus(w.pid, 'VmRSS') ?? 0);
      workerds.forEach((w, i) => {
        peaks.set(w.pid, Math.max(peaks.get(w.pid) ?? 0, now[i]));
      });
      // A line every TRACE_EVERY_MS: whether RSS levels off or keeps growing with the bytes sent.
      if (++ticks % (TRACE_EVERY_MS / SAMPLE_MS) === 0) {
        const t = ((performance.now() - started) / 1000).toFixed(0).padStart(4);
        console.log(`  ${t} s  CLI ${mb(rss).padStart(8)}  workerd ${now.map((r) => (r ? mb(r) : 'gone').padStart(8)).join(' ')}`);
      }
    }, SAMPLE_MS);
    const code = await new Promise<number | null>((resolve) => cli.on('exit', resolve));
    clearInterval(timer);
    const seconds = (performance.now() - started) / 1000;
    if (code !== 0) throw new Error(`import exited ${code}: ${stdout}\n--- wrangler ---\n${readFileSync(logFile, 'utf8').slice(-4000)}`);
    const result = JSON.parse(stdout) as { commit: number; ltxBytes: number; seconds: number; pos: { txid: string } };
    const info = (await (await fetch(`${url}/v1/databases/big`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as {
      commit: number;
    };

    console.log(
      `\nimport of ${(size / 2 ** 20).toFixed(0)} MiB (${result.commit} pages, ${(result.ltxBytes / 2 ** 20).toFixed(0)} MiB of LTX)`,
    );
    console.log(
      `  wall time ${seconds.toFixed(1)} s, ${(size / 1e6 / seconds).toFixed(1)} MB/s (CLI's own: ${result.seconds.toFixed(1)} s)`,
    );
    console.log(
      `  server head: TXID ${result.pos.txid}, commit ${info.commit} pages (${info.commit === result.commit ? 'ok' : 'MISMATCH'})`,
    );
    console.log(`  CLI            peak RSS ${mb(cliPeak)} (sampled every ${SAMPLE_MS} ms), VmHWM ${mb(cliHWM)}`);
    if (workerds.length > 2) console.log('  (wrangler reloaded the Worker during the import: more than two workerd processes seen)');
    for (const w of workerds) {
      console.log(
        `  workerd ${String(w.pid).padEnd(7)} peak RSS ${mb(peaks.get(w.pid))}, before the import ${mb(baseline.get(w.pid))}, ` +
          `VmHWM ${mb(procStatus(w.pid, 'VmHWM'))}`,
      );
    }
  } finally {
    if (wrangler) await stopProcessGroup(wrangler);
    if (values.keep) console.log(`kept ${dir}`);
    else if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
