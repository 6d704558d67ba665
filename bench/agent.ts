// Agent suite: commit → durable latency of `ltx-edge replicate` following a live node:sqlite database at set
// write rates, against the real local platform (wrangler dev); the app alone, unpaced, is the baseline.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEV_TOKEN, startDevServer } from '../test/helpers/dev-server.ts';
import {
  AGENT_CLI,
  DEFAULT_AGENT_CLI,
  DRAIN_TIMEOUT_MS,
  INSERT_PCT,
  ROW_BYTES,
  type RunResult,
  type RunSpec,
  SEED_ROWS,
  runOnce,
} from './agent-run.ts';
import { type Section, type Suite, formatRatio } from './harness.ts';

export interface AgentBenchParams {
  /** Paced rates (tx/s) at the default interval. */
  rates: number[];
  /** Seconds of writing per run. */
  seconds: number;
  /** The agent's default --interval (ms). */
  intervalMs: number;
  /** One more run at this rate with `fastIntervalMs`, to show the knob. */
  fastRate: number;
  fastIntervalMs: number;
  /** Seconds of the unpaced app-alone baseline. */
  baselineSeconds: number;
  seed: number;
}

export const DEFAULT_AGENT_PARAMS: AgentBenchParams = {
  rates: [1000, 5000, 10000],
  seconds: 20,
  intervalMs: 1000,
  fastRate: 5000,
  fastIntervalMs: 250,
  baselineSeconds: 5,
  seed: 20261125,
};
export const QUICK_AGENT_PARAMS: Partial<AgentBenchParams> = { seconds: 5, baselineSeconds: 2 };
export const SMOKE_AGENT_PARAMS: Partial<AgentBenchParams> = { rates: [200], seconds: 2, fastRate: 200, baselineSeconds: 1 };

/** The issue's goal: the agent keeps up with this many small transactions a second. */
const GOAL_RATE = 5000;
/** The goal for the application's CPU per transaction, followed / alone, at every rate. */
const CPU_GOAL = 1.2;
/** A run keeps up when the app held this fraction of its target rate... */
const HELD_RATE = 0.97;
/** ...and the last commit was durable within this (ms) plus two intervals: the backlog at the end was about one sync. */
const DRAIN_SLACK_MS = 1000;
/** The catch-up rate is shown for drains at least this long (ms); shorter ones are one push, not a rate. */
const CATCH_UP_MIN_MS = 1000;

function quantile(sorted: Float64Array | number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const ms = (v: number) => (Number.isNaN(v) ? '–' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const rate = (v: number) => Math.round(v).toLocaleString('en-US');
const pct = (cpuMs: number, seconds: number) => (Number.isNaN(cpuMs) ? '–' : `${((cpuMs / 1000 / seconds) * 100).toFixed(0)}%`);
const label = (r: RunResult) =>
  `${r.spec.rate === 'max' ? 'unpaced' : `${rate(r.spec.rate)} tx/s`}${r.spec.intervalMs !== undefined ? `, --interval ${r.spec.intervalMs} ms` : ', no agent'}`;

interface Derived {
  r: RunResult;
  appRate: number;
  p50: number;
  p99: number;
  max: number;
  pushMs50: number;
  pushMs99: number;
  floor: number;
  keepsUp: boolean;
  /** Wall seconds from the first commit until the last was durable. */
  span: number;
  /** Commits made durable per second after the last commit (the backlog's catch-up rate), when there was a backlog. */
  catchUp: number;
}

function derive(r: RunResult): Derived {
  const lat = Float64Array.from(r.latency).sort();
  const pushMs = r.pushes.map((p) => p.ms).sort((a, b) => a - b);
  const interval = r.spec.intervalMs ?? 0;
  const appRate = r.commits / r.writeSeconds;
  const target = r.spec.rate === 'max' ? appRate : r.spec.rate;
  const pushMs50 = quantile(pushMs, 0.5);
  return {
    r,
    appRate,
    p50: quantile(lat, 0.5),
    p99: quantile(lat, 0.99),
    max: quantile(lat, 1),
    pushMs50,
    pushMs99: quantile(pushMs, 0.99),
    floor: interval / 2 + pushMs50,
    keepsUp: appRate >= HELD_RATE * target && r.drainMs <= 2 * interval + DRAIN_SLACK_MS && r.stuck === 0,
    span: r.writeSeconds + r.drainMs / 1000,
    catchUp: r.drainMs >= CATCH_UP_MIN_MS ? r.lagAtEnd / (r.drainMs / 1000) : Number.NaN,
  };
}

function latencySection(runs: Derived[], p: AgentBenchParams): Section {
  return {
    title: 'Commit → durable latency',
    intro: [
      `Each run: a fresh ${SEED_ROWS.toLocaleString('en-US')}-row database, the agent started and its snapshot pushed, then ${p.seconds} s of one-row transactions ` +
        `at the target rate (${INSERT_PCT}% INSERT of a ${ROW_BYTES}-byte random body with an indexed random name, the rest UPDATE of a random row), then the wait ` +
        'until the last commit is durable. Latency per commit: the time the bench read the push line whose cumulative `commits` covers it, minus the time its COMMIT returned.',
    ],
    table: {
      columns: ['run', 'app tx/s', 'p50 ms', 'p99 ms', 'max ms', 'floor ms', 'behind at end', 'drain ms', 'keeps up'],
      rows: runs.map((d) => [
        label(d.r),
        rate(d.appRate),
        ms(d.p50),
        ms(d.p99),
        ms(d.max),
        ms(d.floor),
        `${rate(d.r.lagAtEnd)} (${(d.r.lagAtEnd / d.appRate).toFixed(2)} s)`,
        ms(d.r.drainMs),
        d.keepsUp ? 'yes' : '**no**',
      ]),
    },
    notes: [
      '"app tx/s": the rate the application reached (commits / seconds from the first commit to the last); it falls short of the target when the agent slows the application down.',
      '"floor": interval / 2 + the median push time (`ms` of the push events: encode, upload, the server\'s answer): what a commit waits on average if the agent syncs every interval and nothing else costs. ' +
        'It leaves out reading the WAL before the push, which the events do not time.',
      '"behind at end": commits not yet durable when the last one returned (and as seconds of writing); "drain": from the last commit until it was durable.',
      ...runs
        .filter((d) => d.r.diffPushes > 0)
        .map(
          (d) =>
            `${label(d.r)}: ${d.r.diffPushes} whole-database diff push(es) mid-run (after: ${[...new Set(d.r.rescans)].join('; ')}). A diff carries commits but counts none, so from the first one on ` +
            `each commit is taken as durable no earlier than it was (upper bounds)${d.r.settled ? `, and ${rate(d.r.settled)} commits got the time of the run's last push` : ''}.`,
        ),
      ...runs
        .filter((d) => d.r.stuck > 0)
        .map(
          (d) =>
            `**${label(d.r)}: ${rate(d.r.stuck)} commits were still not durable ${DRAIN_TIMEOUT_MS / 1000} s after the last commit**; SIGTERM's flush pushed them (the snapshot check passed), so their latency is the time to that flush.`,
        ),
      `"keeps up": the application held ≥ ${HELD_RATE * 100}% of its target rate and the last commit was durable within 2 intervals + ${DRAIN_SLACK_MS} ms (a growing backlog shows as a long drain).`,
    ],
  };
}

function workSection(runs: Derived[]): Section {
  return {
    title: 'What the agent did',
    table: {
      columns: [
        'run',
        'pushes/s',
        'commits/push',
        'pages/push',
        'KiB/push',
        'push ms p50 / p99',
        'checkpoints',
        'rescans',
        'catch-up tx/s',
        'CPU app µs/tx',
        'CPU agent',
        'CPU server',
      ],
      rows: runs.map((d) => {
        const n = d.r.pushes.length;
        const sum = (f: (x: RunResult['pushes'][number]) => number) => d.r.pushes.reduce((a, x) => a + f(x), 0);
        const ck = d.r.checkpoints;
        const passive = ck.filter((c) => c.mode === 'PASSIVE').length;
        const busy = ck.filter((c) => c.busy).length;
        return [
          label(d.r),
          (n / d.span).toFixed(1),
          rate(sum((x) => x.commits) / n),
          rate(sum((x) => x.pages) / n),
          (sum((x) => x.bytes) / n / 1024).toFixed(0),
          `${ms(d.pushMs50)} / ${ms(d.pushMs99)}`,
          `${passive} P, ${ck.length - passive} T${busy ? `, ${busy} busy` : ''}`,
          String(d.r.rescans.length),
          Number.isNaN(d.catchUp) ? '–' : rate(d.catchUp),
          ((d.r.appCpuMs * 1000) / d.r.commits).toFixed(0),
          pct(d.r.agentCpuMs, d.span),
          pct(d.r.serverCpuMs, d.span),
        ];
      }),
    },
    notes: [
      'Averages per push over the run; "checkpoints": the agent\'s own (P = PASSIVE, T = TRUNCATE), "busy" when SQLite could not finish one; "rescans": whole-database reads after a WAL the agent did not expect.',
      `"catch-up tx/s": commits made durable per second between the last commit and the drain's end (drains of ≥ ${CATCH_UP_MIN_MS} ms), i.e. how fast the agent works off a backlog.`,
      ...(runs.some((d) => d.r.spec.intervalMs !== undefined && (d.r.pushes.length / d.span) * (d.r.spec.intervalMs / 1000) > 1.5)
        ? [
            'More than one push per interval means syncs ran back to back: `Replicator.sync()` pushes, reads the WAL again and keeps going while that read finds new commits, ' +
              'so under steady writes the interval only applies when a read comes back empty (then also the only time it checkpoints). Latencies below the floor come from that.',
          ]
        : []),
      "CPU: the application's thread per transaction; the agent process and the server (wrangler + workerd, the whole process group) as a share of one core over the run (Linux /proc). The machine has " +
        `${os.cpus().length} cores for all three.`,
    ],
  };
}

export const suite: Suite = {
  name: 'agent',
  title: 'replicate: commit → durable latency and sustained write rate (local wrangler dev)',
  async run(ctx) {
    const given = process.env.LTX_BENCH_PARAMS ? (JSON.parse(process.env.LTX_BENCH_PARAMS) as Partial<AgentBenchParams>) : {};
    const p: AgentBenchParams = {
      ...DEFAULT_AGENT_PARAMS,
      ...(ctx.smoke ? SMOKE_AGENT_PARAMS : ctx.quick ? QUICK_AGENT_PARAMS : {}),
      ...given,
    };
    // The application alone at each rate (its CPU per transaction is the floor of that rate), then followed.
    const rates: (number | 'max')[] = [...p.rates, 'max'];
    const specs: RunSpec[] = [
      ...rates.map((r) => ({ label: `alone-${r}`, rate: r, seconds: p.baselineSeconds })),
      ...rates.map((r) => ({ label: `r${r}`, rate: r, seconds: p.seconds, intervalMs: p.intervalMs })),
      { label: `r${p.fastRate}-fast`, rate: p.fastRate, seconds: p.seconds, intervalMs: p.fastIntervalMs },
    ];
    const loadBefore = os.loadavg()[0];
    const t0 = performance.now();
    ctx.log('  starting wrangler dev…');
    const server = await startDevServer();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ltx-bench-agent-'));
    const results: RunResult[] = [];
    try {
      for (const [i, spec] of specs.entries()) {
        ctx.log(
          `  ${spec.label}: ${spec.rate} tx/s for ${spec.seconds} s${spec.intervalMs !== undefined ? `, agent --interval ${spec.intervalMs}ms` : ', no agent'}`,
        );
        const r = await runOnce(spec, { url: server.url, token: DEV_TOKEN, dir, serverPgid: server.child.pid, log: ctx.log }, p.seed + i);
        const d = derive(r);
        ctx.log(
          `    ${rate(d.appRate)} tx/s; p50 ${ms(d.p50)} ms, p99 ${ms(d.p99)} ms, drain ${ms(r.drainMs)} ms, ${r.pushes.length} pushes${r.verified ? ', snapshot verified' : ''}`,
        );
        results.push(r);
      }
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    const loadAfter = os.loadavg()[0];
    ctx.log(`  total ${((performance.now() - t0) / 1000).toFixed(0)} s`);

    const derived = results.map(derive);
    const aloneRuns = derived.filter((d) => d.r.spec.intervalMs === undefined);
    const followed = derived.filter((d) => d.r.spec.intervalMs !== undefined);
    const alone = aloneRuns.find((d) => d.r.spec.rate === 'max')!;
    const atInterval = followed.filter((d) => d.r.spec.intervalMs === p.intervalMs && d.r.spec.rate !== 'max');
    const kept = atInterval.filter((d) => d.keepsUp).map((d) => d.r.spec.rate as number);
    const sustained = kept.length ? Math.max(...kept) : 0;
    const goalRun = atInterval.find((d) => d.r.spec.rate === GOAL_RATE);
    const aloneUs = (alone.r.appCpuMs * 1000) / alone.r.commits;
    const glance: string[][] = [
      [
        `highest tested rate the agent kept up with (--interval ${p.intervalMs} ms)`,
        sustained >= GOAL_RATE ? `${rate(sustained)} tx/s` : `**${sustained ? `${rate(sustained)} tx/s` : 'none'}**`,
        `≥ ${rate(GOAL_RATE)} tx/s`,
      ],
      ['… as a share of the app alone, unpaced', formatRatio(sustained / alone.appRate), ''],
    ];
    if (goalRun) {
      glance.push(
        [`${rate(GOAL_RATE)} tx/s: app tx/s reached / target`, formatRatio(goalRun.appRate / GOAL_RATE), ''],
        [`${rate(GOAL_RATE)} tx/s: p50 / p99 latency`, `${ms(goalRun.p50)} / ${ms(goalRun.p99)} ms`, ''],
        [`${rate(GOAL_RATE)} tx/s: p50 / floor (interval/2 + push)`, formatRatio(goalRun.p50 / goalRun.floor), ''],
        [
          `${rate(GOAL_RATE)} tx/s: app CPU per tx, followed / alone`,
          formatRatio((goalRun.r.appCpuMs * 1000) / goalRun.r.commits / aloneUs),
          '',
        ],
      );
    }
    const cpuUs = (d: Derived) => (d.r.appCpuMs * 1000) / d.r.commits;
    const cpuRows = rates.map((r) => {
      const a = aloneRuns.find((d) => d.r.spec.rate === r)!;
      const f = followed.find((d) => d.r.spec.rate === r && d.r.spec.intervalMs === p.intervalMs)!;
      const ratio = cpuUs(f) / cpuUs(a);
      return [
        r === 'max' ? 'unpaced' : `${rate(r)} tx/s`,
        `${rate(a.appRate)} / ${rate(f.appRate)}`,
        cpuUs(a).toFixed(1),
        cpuUs(f).toFixed(1),
        ratio <= CPU_GOAL ? formatRatio(ratio) : `**${formatRatio(ratio)}**`,
      ];
    });
    const checked = followed.filter((d) => d.r.verified).length;
    const problems = followed.flatMap((d) => d.r.errors.map((e) => `${d.r.spec.label}: ${e}`));
    return {
      intro: [
        '**What runs.** The real local platform (`wrangler dev` on a free port, throwaway state, test/helpers/dev-server.ts); the real agent, `bin/ltx-edge.js replicate <file> --url … --db … --json`, ' +
          'as a child process; the application, a node:sqlite database in a worker thread of the bench (4096-byte pages, journal_mode WAL, synchronous NORMAL), ' +
          "so the agent and the application never share an event loop, and the bench's main thread reads the agent's output the moment it comes. " +
          'Commits are evenly spaced at the target rate (the thread sleeps in Atomics.wait between them, and catches up right away after a slow one). ' +
          "All three share this machine's cores with each other (and with whatever else runs on it). " +
          'The workload starts once the agent has pushed its snapshot and made its first checkpoint (at most 2 s later): a commit in between restarts the WAL that the seed left fully backfilled, ' +
          'which the agent takes for a foreign restart (a rescan and a whole-database diff; see the notes after this section).',
        "**Durable.** The application is the only writer, so the `commits` field of the agent's push events, summed, is the number of the application's transactions on the server: " +
          'commit k is durable when the push line that brings the sum to k arrives (the server answered the push). Clocks: performance.timeOrigin + now() on both threads. ' +
          "After each run the agent gets SIGTERM (it flushes, must exit 0), and the server's snapshot (GET …/snapshot) must equal a SQLite-checkpointed copy of the local file, byte for byte (sha256); the suite throws otherwise. " +
          `Checked: ${checked} of ${followed.length} runs.`,
        `**Baseline.** The same transactions with no agent, unpaced (back to back, ${p.baselineSeconds} s): ${rate(alone.appRate)} tx/s, ${aloneUs.toFixed(0)} µs of CPU each. ` +
          'That is the ceiling any follower is measured against; the latency floor of an interval-driven follower is about interval / 2 + the time of one push.',
        `Agent: ${AGENT_CLI === DEFAULT_AGENT_CLI ? 'bin/ltx-edge.js of this checkout' : `**${AGENT_CLI}** (LTX_BENCH_AGENT_CLI), not this checkout's`}. ` +
          `Parameters: ${JSON.stringify(p)} (override with LTX_BENCH_PARAMS='{"seconds":10}'; LTX_BENCH_AGENT_CLI=<checkout>/bin/ltx-edge.js measures another build of the agent, ` +
          'LTX_BENCH_AGENT_PROF=<dir> writes its --cpu-prof profile there). ' +
          `Load average (1 min): ${loadBefore.toFixed(2)} before the run, ${loadAfter.toFixed(2)} after (${os.cpus().length} cores). ` +
          'The "Measurement" line above describes the in-process harness of the other suites and does not apply here: everything is wall-clock time.',
      ],
      sections: [
        {
          title: 'At a glance',
          table: { columns: ['measure (same run)', 'value', 'goal'], rows: glance },
          notes: ['Bold: below its goal.', ...problems],
        },
        {
          title: "The application's CPU per transaction: followed by the agent / alone",
          table: {
            columns: ['rate', 'app tx/s alone / followed', 'alone µs/tx', 'followed µs/tx', `followed / alone (goal ≤ ${CPU_GOAL}×)`],
            rows: cpuRows,
          },
          notes: [
            `The application's thread CPU (Linux /proc) per transaction, alone and followed by the agent at --interval ${p.intervalMs} ms, at the same target rate ` +
              `(alone: ${p.baselineSeconds} s; followed: ${p.seconds} s). What the agent may cost the application is its read transaction: a read at read mark 0 ` +
              "blocks every copy of the WAL into the database, and each COMMIT's autocheckpoint then walks the whole WAL (the section after the tables).",
          ],
        },
        latencySection(followed, p),
        workSection(followed),
      ],
    };
  },
};
