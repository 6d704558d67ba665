// One run of the agent suite: a node:sqlite application committing small transactions at a set rate while
// the real `ltx-edge replicate` CLI follows it in a child process; every commit's commit → durable latency.

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import { databaseImage, sha256 } from '../test/helpers/agent-workload.ts';
import type { AppData, AppMessage } from './agent-app.ts';

export { INSERT_PCT, ROW_BYTES, SEED_ROWS } from './agent-app.ts';

export const PAGE_SIZE = 4096;
/** Room for commit times in an unpaced run (per second). */
const MAX_RATE_ROOM = 100_000;
/** How long to wait for the last commit to become durable before calling the run stuck and stopping the agent (ms). */
export const DRAIN_TIMEOUT_MS = 30_000;
/** Longest wait for the agent's first checkpoint before the workload starts (ms). */
const SETTLE_MS = 2_000;
/** After a whole-database diff mid-run: the agent is taken to have pushed everything once it has not pushed for this long (ms). */
const IDLE_MS = 3_000;

export const DEFAULT_AGENT_CLI = path.join(import.meta.dirname, '..', 'bin', 'ltx-edge.js');
/** The CLI the agent runs from; LTX_BENCH_AGENT_CLI points at another checkout's bin/ltx-edge.js to compare agent changes. */
export const AGENT_CLI = process.env.LTX_BENCH_AGENT_CLI ?? DEFAULT_AGENT_CLI;
const clock = () => performance.timeOrigin + performance.now();

export interface RunSpec {
  label: string;
  /** Transactions per second, or 'max': as fast as the loop goes (yielding every few ms). */
  rate: number | 'max';
  seconds: number;
  /** The agent's --interval (ms); undefined: no agent (the app alone). */
  intervalMs?: number;
}

export interface PushStat {
  commits: number;
  pages: number;
  bytes: number;
  ms: number;
}

export interface RunResult {
  spec: RunSpec;
  commits: number;
  /** Seconds from the first commit to the last. */
  writeSeconds: number;
  /** Bench-process CPU time spent in the workload (ms), and the agent's and the server's (ms, Linux /proc; NaN elsewhere). */
  appCpuMs: number;
  agentCpuMs: number;
  serverCpuMs: number;
  /** Per-commit latency (ms), in commit order; empty without an agent. */
  latency: Float64Array;
  /** Commits not yet durable when the last commit returned. */
  lagAtEnd: number;
  /** From the last commit until every commit was durable (ms). */
  drainMs: number;
  pushes: PushStat[];
  checkpoints: { mode: string; busy: boolean; walFrames: number; backfilled: number }[];
  rescans: string[];
  /** Whole-database diff pushes mid-run (their commit counts are 0, so latencies from then on are upper bounds). */
  diffPushes: number;
  /** Commits whose durable time is the last push of the run, because a diff hid which push carried them. */
  settled: number;
  /** Commits still not durable DRAIN_TIMEOUT_MS after the last commit (then pushed by the flush on SIGTERM, or the run throws). */
  stuck: number;
  errors: string[];
  /** The server's snapshot equals the local database (checked after the agent stopped). */
  verified: boolean;
}

/** Follows the agent's --json lines: maps cumulative `commits` of WAL pushes onto the app's commit sequence. */
class DurableTracker {
  /** Commit k's time, written by the app's thread; how many there are is control[0]. */
  readonly commitAt: Float64Array;
  readonly durableAt: Float64Array;
  private readonly control: Int32Array;
  readonly pushes: PushStat[] = [];
  readonly checkpoints: RunResult['checkpoints'] = [];
  readonly rescans: string[] = [];
  readonly errors: string[] = [];
  durable = 0;
  /** Pushes of a whole-database diff after the snapshot: commit counts are a lower bound from then on. */
  diffPushes = 0;
  /** Commits given the time of the last push because a diff hid how many a push carried. */
  settled = 0;
  lastPushAt = 0;
  private rescanFrom: number | undefined;
  snapshotPushed = false;
  checkpointed = false;
  exited = false;
  private waiters: (() => void)[] = [];

  constructor(commitAt: SharedArrayBuffer, control: SharedArrayBuffer) {
    this.commitAt = new Float64Array(commitAt);
    this.durableAt = new Float64Array(this.commitAt.length);
    this.control = new Int32Array(control);
  }

  get committed(): number {
    return Atomics.load(this.control, 0);
  }

  line(text: string, t: number): void {
    if (process.env.LTX_BENCH_AGENT_DEBUG)
      process.stderr.write(`${(t / 1000).toFixed(3)} [${this.committed - this.durable} behind] ${text}\n`);
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(text) as Record<string, unknown>;
    } catch {
      this.errors.push(`not JSON: ${text}`);
      return;
    }
    if (e.event === 'push') {
      if (e.reason === 'snapshot' && !this.snapshotPushed) {
        this.snapshotPushed = true;
        this.wake();
        return;
      } else {
        const commits = e.commits as number;
        this.pushes.push({ commits, pages: e.pages as number, bytes: e.bytes as number, ms: e.ms as number });
        this.lastPushAt = t;
        // upto may pass `committed` by a commit or two: SQLite's COMMIT is done before the app thread records it.
        let upto = this.durable + commits;
        if (e.reason !== 'wal') {
          // A whole-database diff after a rescan carries commits but counts none: it holds at least those
          // recorded when the rescan began. Counting then goes on from there, so later commits are taken
          // as durable later than they were, never earlier.
          upto = Math.max(upto, this.rescanFrom ?? 0);
          this.diffPushes++;
        }
        for (let k = this.durable; k < upto; k++) this.durableAt[k] = t;
        this.durable = Math.max(this.durable, upto);
      }
    } else if (e.event === 'checkpoint') {
      this.checkpointed = true;
      this.checkpoints.push({
        mode: e.mode as string,
        busy: e.busy as boolean,
        walFrames: e.walFrames as number,
        backfilled: e.backfilled as number,
      });
    } else if (e.event === 'rescan') {
      this.rescans.push(e.why as string);
      this.rescanFrom = this.committed;
    } else if (e.event === 'error' || e.event === 'fatal') {
      this.errors.push(`${String(e.event)}: ${String(e.code ?? '')} ${String(e.error)}`);
    }
    this.wake();
  }

  /** After a diff (counts lost) and an idle agent: commits still counted as pending were in the last push at the latest. */
  settle(n: number): void {
    for (let k = this.durable; k < n; k++) this.durableAt[k] = this.lastPushAt;
    this.settled += Math.max(0, n - this.durable);
    this.durable = Math.max(this.durable, n);
  }

  wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves when `cond` holds (checked after every event), rejects after `ms`. */
  async until(cond: () => boolean, ms: number, what: string): Promise<void> {
    const deadline = performance.now() + ms;
    while (!cond()) {
      if (this.exited) throw new Error(`the agent exited while waiting for ${what}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}

/**
 * CPU time (ms) by process: one process, or every process of a process group (with the time of children
 * they reaped), from /proc; empty where there is none. utime + stime count all of a process's threads.
 */
function procCpu(pid: number, group = false): Map<number, number> {
  const out = new Map<number, number>();
  const tick = 100; // USER_HZ on Linux
  const read = (p: number): void => {
    const text = readFileSync(`/proc/${p}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    if (group && Number(f[2]) !== pid) return;
    out.set(p, ((Number(f[11]) + Number(f[12]) + (group ? Number(f[13]) + Number(f[14]) : 0)) * 1000) / tick);
  };
  try {
    for (const p of group
      ? readdirSync('/proc')
          .filter((x) => /^\d+$/.test(x))
          .map(Number)
      : [pid]) {
      try {
        read(p);
      } catch {
        // Gone meanwhile.
      }
    }
  } catch {
    // No /proc.
  }
  return out;
}

/** CPU used between two procCpu snapshots (ms; processes that ended between them are left out); NaN without /proc. */
function cpuSince(before: Map<number, number>, after: Map<number, number>): number {
  if (after.size === 0) return Number.NaN;
  let sum = 0;
  for (const [p, ms] of after) sum += Math.max(0, ms - (before.get(p) ?? 0));
  return sum;
}

/** `replicate --json` as a child process; stdout lines go to the tracker with their arrival time. */
function startAgent(
  file: string,
  db: string,
  url: string,
  token: string,
  intervalMs: number,
  tracker: DurableTracker,
): { child: ChildProcess; stderr: () => string; exit: Promise<number | null> } {
  const nodeArgs: string[] = [];
  const profDir = process.env.LTX_BENCH_AGENT_PROF;
  if (profDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profDir}`);
  const child = spawn(
    process.execPath,
    [...nodeArgs, AGENT_CLI, 'replicate', file, '--url', url, '--db', db, '--token', token, '--interval', `${intervalMs}ms`, '--json'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    },
  );
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  createInterface({ input: child.stdout! }).on('line', (l) => tracker.line(l, clock()));
  const exit = new Promise<number | null>((resolve) =>
    // 'close', not 'exit': every line of stdout has been read by then.
    child.once('close', (code) => {
      tracker.exited = true;
      tracker.wake();
      resolve(code);
    }),
  );
  return { child, stderr: () => err, exit };
}

export interface RunEnv {
  url: string;
  token: string;
  dir: string;
  /** wrangler's process group (for its CPU time). */
  serverPgid?: number;
  log(line: string): void;
}

/** The application's thread (bench/agent-app.ts): resolves once seeded; `go()` starts the workload, `done` ends with it. */
function startApp(data: AppData): {
  seeded: Promise<void>;
  go(): void;
  done: Promise<Extract<AppMessage, { type: 'done' }>>;
  stop(): Promise<number>;
} {
  const worker = new Worker(path.join(import.meta.dirname, 'agent-app.ts'), { workerData: data });
  let seeded!: () => void;
  let done!: (m: Extract<AppMessage, { type: 'done' }>) => void;
  let failed!: (e: Error) => void;
  const p = {
    seeded: new Promise<void>((resolve, reject) => {
      seeded = resolve;
      failed = reject;
    }),
    done: new Promise<Extract<AppMessage, { type: 'done' }>>((resolve, reject) => {
      done = resolve;
      worker.once('error', reject);
    }),
  };
  worker.once('error', (e) => failed(e));
  worker.on('message', (m: AppMessage) => (m.type === 'seeded' ? seeded() : done(m)));
  p.done.catch(() => undefined);
  return { ...p, go: () => worker.postMessage('go'), stop: () => worker.terminate() };
}

/** Runs one spec on a fresh database file and server database; throws when the server's state is not the local one. */
export async function runOnce(spec: RunSpec, env: RunEnv, seed: number): Promise<RunResult> {
  const file = path.join(env.dir, `${spec.label}.db`);
  const db = `bench-agent-${spec.label}-${Date.now().toString(36)}`;
  const room = spec.rate === 'max' ? MAX_RATE_ROOM * spec.seconds : Math.round(spec.rate * spec.seconds);
  const data: AppData = {
    file,
    pageSize: PAGE_SIZE,
    seed,
    rate: spec.rate,
    seconds: spec.seconds,
    commitAt: new SharedArrayBuffer(room * 8),
    control: new SharedArrayBuffer(8),
  };
  const tracker = new DurableTracker(data.commitAt, data.control);
  const app = startApp(data);
  let agent: ReturnType<typeof startAgent> | undefined;
  try {
    await app.seeded;
    if (spec.intervalMs !== undefined) {
      agent = startAgent(file, db, env.url, env.token, spec.intervalMs, tracker);
      await tracker
        .until(() => tracker.snapshotPushed, 60_000, 'the first snapshot')
        .catch((e: Error) => {
          throw new Error(`${e.message}\n${agent!.stderr()}`);
        });
      // ...and its first checkpoint, which follows the snapshot in the same sync: the seed left a fully
      // backfilled WAL, and an application commit before that checkpoint restarts the WAL under the agent,
      // which it takes for a foreign restart (rescan, whole-database diff; see BENCHMARKS.md).
      await tracker.until(() => tracker.checkpointed, SETTLE_MS, 'the first checkpoint').catch(() => undefined);
    }
    const agent0 = agent ? procCpu(agent.child.pid!) : new Map<number, number>();
    const server0 = env.serverPgid ? procCpu(env.serverPgid, true) : new Map<number, number>();
    app.go();
    const { commits: n, cpuMs: appCpuMs } = await app.done;
    if (n === 0) throw new Error(`${spec.label}: no commits`);
    const lastCommit = tracker.commitAt[n - 1];
    let drainMs = 0;
    let lagAtEnd = 0;
    let stuck = 0;
    if (agent) {
      // With counts lost to a diff, "all durable" is: the agent idle for IDLE_MS (the final snapshot check proves it).
      const idle = () => tracker.diffPushes > 0 && clock() - tracker.lastPushAt > Math.max(IDLE_MS, 3 * spec.intervalMs!);
      const drained = await tracker
        .until(() => tracker.durable >= n || idle(), DRAIN_TIMEOUT_MS, `commit ${n} to be durable`)
        .then(
          () => true,
          (e: Error) => {
            if (tracker.exited) throw new Error(`${e.message} (${tracker.durable} are)\n${agent!.stderr()}`);
            return false;
          },
        );
      if (!drained) {
        // Not a reason to stop the suite: SIGTERM's flush below must push them, and the snapshot check decides.
        stuck = n - tracker.durable;
        env.log(
          `    ${stuck} commits still not durable ${DRAIN_TIMEOUT_MS} ms after the last one; stopping the agent (its flush must push them)`,
        );
      }
    }
    const agentCpuMs = agent ? cpuSince(agent0, procCpu(agent.child.pid!)) : Number.NaN;
    const serverCpuMs = env.serverPgid ? cpuSince(server0, procCpu(env.serverPgid, true)) : Number.NaN;
    let verified = false;
    if (agent) {
      agent.child.kill('SIGTERM');
      const code = await agent.exit;
      if (code !== 0) throw new Error(`the agent exited ${code} on SIGTERM\n${agent.stderr()}`);
      agent = undefined;
      if (tracker.durable < n) tracker.settle(n);
      drainMs = Math.max(0, tracker.durableAt[n - 1] - lastCommit);
      for (let k = n - 1; k >= 0 && tracker.durableAt[k] > lastCommit; k--) lagAtEnd++;
      const res = await fetch(`${env.url}/v1/databases/${db}/snapshot`, { headers: { authorization: `Bearer ${env.token}` } });
      if (res.status !== 200) throw new Error(`GET snapshot of ${db}: ${res.status} ${await res.text()}`);
      const remote = sha256(new Uint8Array(await res.arrayBuffer()));
      const local = sha256(databaseImage(file, path.join(env.dir, `${spec.label}-image.db`)));
      if (remote !== local) {
        throw new Error(
          `${spec.label}: the server's snapshot (${remote}) is not the local database (${local}); ${tracker.durable} of ${n} commits counted durable${stuck ? `, ${stuck} were stuck before SIGTERM` : ''}`,
        );
      }
      verified = true;
    }
    const latency = new Float64Array(spec.intervalMs !== undefined ? n : 0);
    for (let k = 0; k < latency.length; k++) latency[k] = tracker.durableAt[k] - tracker.commitAt[k];
    return {
      spec,
      commits: n,
      writeSeconds: (lastCommit - tracker.commitAt[0]) / 1000,
      appCpuMs,
      agentCpuMs,
      serverCpuMs,
      latency,
      lagAtEnd,
      drainMs,
      pushes: tracker.pushes,
      checkpoints: tracker.checkpoints,
      rescans: tracker.rescans,
      diffPushes: tracker.diffPushes,
      stuck,
      settled: tracker.settled,
      errors: tracker.errors,
      verified,
    };
  } finally {
    if (agent) {
      agent.child.kill('SIGKILL');
      await agent.exit;
    }
    await app.stop();
  }
}
