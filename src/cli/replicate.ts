// `ltx-edge replicate <sqlite-file> --url <url> --db <name>`: the agent — follow the WAL, push every commit, until stopped.

import { AgentError } from '../agent/agent-error.ts';
import { formatPos } from '../agent/agent-state.ts';
import { type AgentEvent, Replicator } from '../agent/replicator.ts';
import { type DurationGrammar, parseDuration } from '../api/duration.ts';
import { EXIT_FAILURE, EXIT_OK, UsageError, parseCommandArgs } from './cli-errors.ts';
import type { CliIO } from './cli-io.ts';
import type { Command } from './command.ts';
import { resolveClientConfig } from './remote-cli.ts';
import { REMOTE_OPTIONS, cliClient } from './remote-cli.ts';

/** Time between syncs (ms). */
export const DEFAULT_SYNC_INTERVAL_MS = 1_000;
/** Longest wait between attempts after failures the agent rides out (ms). */
export const MAX_BACKOFF_MS = 30_000;
/** How long the flush on SIGINT/SIGTERM keeps retrying a server it cannot reach before it gives up (ms). */
export const FLUSH_DEADLINE_MS = 30_000;

export const REPLICATE_USAGE = `Usage: ltx-edge replicate <sqlite-file> --url <url> --db <name> [--interval 1s] [--once] [--reset-from-server] [--token T] [--json]

Follows the database's WAL (switching it to WAL mode if needed) and pushes every committed transaction
to database <name> as LTX: a snapshot first, then one LTX file per sync holding every transaction
committed since the last (one TXID each). Checkpoints the WAL once what it holds is durable. Restarting
resumes where the server is: nothing is sent twice or lost. Stops with exit 1 when the server holds a
history this file did not come from (DIVERGED, SERVER_AHEAD, SERVER_BEHIND). Ctrl-C / SIGTERM push
what is committed, then exit 0. State beside the file: .<file>-ltx-edge/.

  --url URL            the server (or $LTX_EDGE_URL)
  --db NAME            the database name on the server (default: the file's name without extension)
  --interval D         time between syncs: 250ms, 1s, 5s… (default 1s)
  --once               one sync, then exit
  --reset-from-server  when the server holds another history, replace the local database with it
  --token T            bearer token (default $LTX_EDGE_TOKEN)
  --json               one JSON object per event on stdout`;

const OPTIONS = {
  ...REMOTE_OPTIONS,
  db: { type: 'string' },
  interval: { type: 'string' },
  once: { type: 'boolean' },
  'reset-from-server': { type: 'boolean' },
} as const;

export const replicateCommand: Command = {
  name: 'replicate',
  synopsis: [['replicate <sqlite-file> --url <url> --db <name>', 'follow the WAL of a live database and push every commit']],
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, OPTIONS, REPLICATE_USAGE);
    if (values.help) {
      await io.out(REPLICATE_USAGE + '\n');
      return EXIT_OK;
    }
    const { config, rest } = resolveClientConfig(positionals, values, REPLICATE_USAGE);
    if (rest.length !== 1) throw new UsageError('replicate needs one <sqlite-file>', REPLICATE_USAGE);
    const file = rest[0];
    const db = values.db ?? defaultName(file);
    const intervalMs = values.interval === undefined ? DEFAULT_SYNC_INTERVAL_MS : parseInterval(values.interval);
    const json = values.json === true;
    const say = (e: AgentEvent | Record<string, unknown>): Promise<void> =>
      json ? io.out(JSON.stringify(e, jsonValue) + '\n') : io.err(describe(e));

    const agent = new Replicator({
      file,
      db,
      client: cliClient(config, io),
      resetFromServer: values['reset-from-server'] === true,
      onEvent: (e) => void say(e),
    });
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await agent.start();
      let backoff = 0;
      while (!stop.signal.aborted) {
        try {
          await agent.sync();
          backoff = 0;
        } catch (e) {
          if (e instanceof AgentError) throw e;
          backoff = Math.min(MAX_BACKOFF_MS, backoff === 0 ? intervalMs : backoff * 2);
          await say({ event: 'error', error: (e as Error).message, retryInMs: backoff });
        }
        if (values.once) break;
        await sleep(backoff || intervalMs, stop.signal);
      }
      if (!values.once) await flush(agent, say); // what committed up to the signal, read again from disk
      await say({ event: 'stop', pos: formatPos(agent.position) });
      return EXIT_OK;
    } catch (e) {
      if (!(e instanceof AgentError)) throw e;
      await say({ event: 'fatal', code: e.code, error: e.message, ...(e.details ? { details: e.details } : {}) });
      if (json) await io.err(`ltx-edge: ${e.code} ${e.message}\n`);
      return EXIT_FAILURE;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await agent.close();
    }
  },
};

/**
 * The last sync before exit: everything committed to the file, whatever state the view is in (sync
 * checks the files and rescans when it must). Transient failures are retried until FLUSH_DEADLINE_MS;
 * then AgentError UNFLUSHED, exit 1 (a second signal exits at once: the handlers are gone).
 */
async function flush(agent: Replicator, say: (e: Record<string, unknown>) => Promise<void>): Promise<void> {
  const deadline = Date.now() + FLUSH_DEADLINE_MS;
  for (let backoff = 250; ; backoff = Math.min(backoff * 2, 5_000)) {
    try {
      await agent.sync();
      return;
    } catch (e) {
      if (e instanceof AgentError) throw e;
      if (Date.now() + backoff > deadline) {
        throw new AgentError('UNFLUSHED', `stopping without pushing everything committed: ${(e as Error).message}`, undefined, {
          cause: e,
        });
      }
      await say({ event: 'error', error: (e as Error).message, retryInMs: backoff });
      await new Promise((resolve) => setTimeout(resolve, backoff));
    }
  }
}

/** `app.db` → `app`; names allowed on the server are checked there. */
function defaultName(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  return base.replace(/\.(db|sqlite3?|sqlite)$/i, '') || base;
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

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
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
    case 'stop':
      return `stopped at TXID ${(e.pos as { txid: string }).txid}\n`;
    default:
      return JSON.stringify(e) + '\n';
  }
}
