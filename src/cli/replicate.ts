// `ltx-edge replicate <sqlite-file> --url <url> --db <name>` or `--config <file.yml>`: the agent — follow each database's WAL, push every commit, until stopped.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatPos } from '../agent/agent-state.ts';
import type { AgentMetrics } from '../agent/agent-metrics.ts';
import { type LoopEvent, runFollowLoop } from '../agent/follow-loop.ts';
import { Replicator } from '../agent/replicator.ts';
import type { AgentEvent } from '../agent/replicator-options.ts';
import { type DurationGrammar, parseDuration } from '../api/duration.ts';
import { EXIT_FAILURE, EXIT_OK, UsageError, parseCommandArgs } from './cli-errors.ts';
import type { CliIO } from './cli-io.ts';
import type { Command } from './command.ts';
import { describeRemoteError, resolveClientConfig } from './remote-cli.ts';
import { REMOTE_OPTIONS, cliClient } from './remote-cli.ts';
import { type FollowSpec, defaultDatabaseName } from './replicate-spec.ts';
import { type ExecChild, startExec } from './replicate-exec.ts';

/** Time between syncs (ms). */
export const DEFAULT_SYNC_INTERVAL_MS = 1_000;

export const REPLICATE_USAGE = `Usage: ltx-edge replicate <sqlite-file> --url <url> --db <name> [--interval 1s] [--once] [--reset-from-server] [--token T] [--json]
       ltx-edge replicate --config <file.yml> [--exec "<command>"] [--metrics-addr host:port] [--json]

Follows the database's WAL (switching it to WAL mode if needed) and pushes every committed transaction
to database <name> as LTX: a snapshot first, then one LTX file per sync holding every transaction
committed since the last (one TXID each). Checkpoints the WAL once what it holds is durable. Restarting
resumes where the server is: nothing is sent twice or lost. Stops with exit 1 when the server holds a
history this file did not come from (DIVERGED, SERVER_AHEAD, SERVER_BEHIND). Ctrl-C / SIGTERM push
what is committed, then exit 0. State beside the file: .<file>-ltx-edge/.

With --config, one process follows every database the YAML file lists (\${VAR} and $VAR expanded from
the environment):

  url: https://ltx-edge.example.com     # default for every database (else --url, $LTX_EDGE_URL)
  token: \${LTX_EDGE_TOKEN}
  interval: 1s
  databases:
    - path: /data/app.db                # db defaults to the file's name without extension
    - path: /data/jobs.db
      db: jobs
      url: https://other.example.com    # url, token and interval may differ per database

A database whose sync fails, or whose server refuses it, is reported and retried; the others go on.

  --url URL            the server (or $LTX_EDGE_URL)
  --db NAME            the database name on the server (default: the file's name without extension)
  --config FILE        follow the databases a YAML file lists (instead of <sqlite-file>)
  --exec CMD           after the first sync, run CMD through the shell; forward SIGINT/SIGTERM to it;
                       when it exits, push what is committed and exit with its exit code
  --metrics-addr ADDR  serve Prometheus metrics at http://ADDR/metrics (host:port, or :port)
  --interval D         time between syncs: 250ms, 1s, 5s… (default 1s)
  --once               one sync, then exit
  --reset-from-server  when the server holds another history, replace the local database with it
  --token T            bearer token (default $LTX_EDGE_TOKEN)
  --json               one JSON object per event on stdout, each with "db"`;

const OPTIONS = {
  ...REMOTE_OPTIONS,
  db: { type: 'string' },
  config: { type: 'string', short: 'c' },
  exec: { type: 'string' },
  'metrics-addr': { type: 'string' },
  interval: { type: 'string' },
  once: { type: 'boolean' },
  'reset-from-server': { type: 'boolean' },
} as const;

type Say = (db: string | undefined, e: AgentEvent | LoopEvent | Record<string, unknown>) => void;

export const replicateCommand: Command = {
  name: 'replicate',
  synopsis: [
    ['replicate <sqlite-file> --url <url> --db <name>', 'follow the WAL of a live database and push every commit'],
    ['replicate --config <file.yml> [--exec <cmd>]', 'follow every database a config file lists'],
  ],
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, OPTIONS, REPLICATE_USAGE);
    if (values.help) {
      await io.out(REPLICATE_USAGE + '\n');
      return EXIT_OK;
    }
    const intervalMs = values.interval === undefined ? DEFAULT_SYNC_INTERVAL_MS : parseInterval(values.interval);
    const specs = await followSpecs(values, positionals, intervalMs);
    const listen = values['metrics-addr'];
    const exec = values.exec;
    if (exec !== undefined && exec.trim() === '') throw new UsageError('--exec needs a command', REPLICATE_USAGE);
    if (exec !== undefined && values.once) throw new UsageError('give --exec or --once, not both', REPLICATE_USAGE);
    const json = values.json === true;
    const many = values.config !== undefined;
    const say: Say = (db, e) =>
      void (json
        ? io.out(JSON.stringify({ db, ...e }, jsonValue) + '\n')
        : io.err((many && db !== undefined ? `[${db}] ` : '') + describe(e)));

    let metrics: AgentMetrics | undefined;
    let metricsServer: Server | undefined;
    if (listen !== undefined) {
      const { AgentMetrics, parseListenAddress, serveMetrics } = await import('../agent/agent-metrics.ts');
      const addr = parseListenAddress(listen);
      if (!addr) throw new UsageError(`--metrics-addr must be host:port or :port, got ${JSON.stringify(listen)}`, REPLICATE_USAGE);
      metrics = new AgentMetrics(specs.map((s) => s.db));
      try {
        metricsServer = await serveMetrics(metrics, addr);
        const bound = metricsServer.address() as AddressInfo;
        const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
        say(undefined, { event: 'metrics', url: `http://${host}:${bound.port}/metrics` });
      } catch (e) {
        const info = describeRemoteError(e);
        await io.err(`ltx-edge: ${info.code} cannot serve metrics on ${listen}: ${info.message}\n`);
        return EXIT_FAILURE;
      }
    }

    const agents = specs.map(
      (s) =>
        new Replicator({
          file: s.path,
          db: s.db,
          client: cliClient({ url: s.url, token: s.token }, io),
          resetFromServer: values['reset-from-server'] === true,
          onEvent: (e) => {
            metrics?.event(s.db, e);
            say(s.db, e);
          },
        }),
    );
    const stop = new AbortController();
    let child: ExecChild | undefined;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (child) child.forward(signal);
      else stop.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let firstSyncs = 0;
    let syncedOnce = (): void => undefined;
    const allSyncedOnce = new Promise<void>((resolve) => (syncedOnce = resolve));
    try {
      const loops = specs.map((s, i) =>
        runFollowLoop(agents[i], {
          intervalMs: s.intervalMs,
          signal: stop.signal,
          once: values.once === true,
          onFatal: many || exec !== undefined ? 'retry' : 'stop',
          say: (e) => {
            metrics?.event(s.db, e);
            say(s.db, e);
          },
          onSynced: (r, startedAt) => void metrics?.synced(s.db, s.path, r, startedAt),
          onFirstSync: () => {
            if (++firstSyncs === specs.length) syncedOnce();
          },
        }),
      );
      let childCode: number | undefined;
      if (exec !== undefined) {
        await Promise.race([allSyncedOnce, Promise.all(loops)]);
        if (!stop.signal.aborted) {
          child = startExec(exec);
          say(undefined, { event: 'exec', command: exec, pid: child.pid });
          childCode = await child.exited;
          say(undefined, { event: 'exit', command: exec, code: childCode });
          stop.abort();
        }
      }
      const ended = await Promise.all(loops);
      for (const [i, s] of specs.entries()) say(s.db, { event: 'stop', pos: formatPos(agents[i].position) });
      const failed = ended.find((e) => e !== undefined);
      if (failed && json) await io.err(`ltx-edge: ${failed.code} ${failed.message}\n`);
      if (childCode !== undefined) return childCode === 0 && failed ? EXIT_FAILURE : childCode;
      return failed ? EXIT_FAILURE : EXIT_OK;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      for (const a of agents) await a.close();
      metricsServer?.close();
    }
  },
};

/** The databases to follow: the config file's, or the one <sqlite-file> with --db. */
async function followSpecs(
  values: { config?: string; db?: string; url?: string; token?: string },
  positionals: string[],
  intervalMs: number,
): Promise<FollowSpec[]> {
  if (values.config !== undefined) {
    if (positionals.length > 0) throw new UsageError('give <sqlite-file> or --config, not both', REPLICATE_USAGE);
    if (values.db !== undefined) throw new UsageError('with --config, each database names itself (db:) in the file', REPLICATE_USAGE);
    const url = values.url ?? (process.env.LTX_EDGE_URL || undefined);
    const token = values.token ?? (process.env.LTX_EDGE_TOKEN || undefined);
    const { readReplicateConfig } = await import('./replicate-config.ts');
    return readReplicateConfig(values.config, { url, token, intervalMs }, parseInterval);
  }
  const { config, rest } = resolveClientConfig(positionals, values, REPLICATE_USAGE);
  if (rest.length !== 1) throw new UsageError('replicate needs one <sqlite-file> (or --config)', REPLICATE_USAGE);
  return [{ path: rest[0], db: values.db ?? defaultDatabaseName(rest[0]), url: config.url, token: config.token, intervalMs }];
}

/** The flags' duration grammar: `250ms`, `1s`, `1.5s`, `2m`, or a bare number of milliseconds. */
const FLAG_DURATION: DurationGrammar = { fractions: true, bareMs: true, units: ['ms', 's', 'm'] };

/** `--interval`: a flag duration from 10 ms to 1 h, rounded to whole milliseconds. */
export function parseInterval(text: string): number {
  const n = parseDuration(text.trim(), FLAG_DURATION);
  if (n === null) throw new UsageError(`invalid duration: ${text} (e.g. 500ms, 1s, 2m)`, REPLICATE_USAGE);
  if (n < 10 || n > 3_600_000) throw new UsageError(`interval out of range: ${text} (10ms to 1h)`, REPLICATE_USAGE);
  return Math.round(n);
}

/** bigints as 16 hex digits, the wire form of TXIDs and checksums. */
function jsonValue(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString(16).padStart(16, '0') : v;
}
function describe(e: AgentEvent | Record<string, unknown>): string {
  const hex = (v: unknown): string => (typeof v === 'bigint' ? v.toString(16).padStart(16, '0') : String(v));
  switch (e.event) {
    case 'start': {
      const s = e as Extract<AgentEvent, { event: 'start' }>;
      return `replicating ${s.file} → ${s.db}: ${s.commit} pages of ${s.pageSize} B, server at TXID ${hex(s.pos.txid)} (${s.action})\n`;
    }
    case 'push': {
      const p = e as Extract<AgentEvent, { event: 'push' }>;
      return `TXID ${hex(p.txid)}: ${p.reason}, ${p.commits} commits, ${p.pages} pages, ${p.bytes} B in ${p.ms.toFixed(0)} ms\n`;
    }
    case 'checkpoint': {
      const c = e as Extract<AgentEvent, { event: 'checkpoint' }>;
      return `checkpoint ${c.mode}: ${c.backfilled} of ${c.walFrames} frames${c.busy ? ' (busy)' : ''}\n`;
    }
    case 'rescan':
      return `rescanning the database: ${(e as { why: string }).why}\n`;
    case 'error':
      return `ltx-edge: ${String(e.error)}; retrying in ${((e.retryInMs as number) / 1000).toFixed(1)} s\n`;
    case 'fatal':
      return `ltx-edge: ${String(e.code)} ${String(e.error)}\n`;
    case 'metrics':
      return `metrics at ${String(e.url)}\n`;
    case 'exec':
      return `started ${String(e.command)} (pid ${String(e.pid)})\n`;
    case 'exit':
      return `${String(e.command)} exited with ${String(e.code)}; pushing what it committed\n`;
    case 'stop':
      return `stopped at TXID ${(e.pos as { txid: string }).txid}\n`;
    default:
      return JSON.stringify(e) + '\n';
  }
}
