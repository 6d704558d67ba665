// One database's life in the agent process: start, sync every interval, ride out failures with backoff, flush what is committed on stop.

import { AgentError } from './agent-error.ts';
import type { Replicator } from './replicator.ts';
import type { SyncResult } from './replicator-options.ts';
import { DEFAULT_RESTART_WAIT_MS } from './replicator-options.ts';

/** Longest wait between attempts after failures the agent rides out (ms). */
export const MAX_BACKOFF_MS = 30_000;
/** How long the flush on stop keeps retrying a server it cannot reach before it gives up (ms). */
export const FLUSH_DEADLINE_MS = 30_000;

/** What the loop reports beside the Replicator's own events. */
export type LoopEvent =
  | { event: 'error'; error: string; code?: string; retryInMs: number }
  | { event: 'fatal'; code: string; error: string; details?: Record<string, unknown> };

export interface FollowLoopOptions {
  intervalMs: number;
  /** Aborted: flush what is committed and return. */
  signal: AbortSignal;
  /** One sync, then return (no flush: the sync was it). */
  once?: boolean;
  /**
   * What an AgentError (a history the server does not share, a refused push) does: `stop` returns it at
   * once (one database per process, exit 1); `retry` reports it and tries again after the longest
   * backoff, so one database's trouble never stops the others or an application run with --exec.
   */
  onFatal: 'stop' | 'retry';
  say: (e: LoopEvent) => void;
  /** After every successful sync, with the time it began (everything committed by then is on the server). */
  onSynced?: (r: SyncResult, startedAt: number) => void;
  /** After the first sync attempt, whether it succeeded or not. */
  onFirstSync?: () => void;
}

/**
 * Runs `agent` until the signal (then flushes) or, with `once`, for one sync. Resolves undefined when it
 * stopped cleanly, or the AgentError that ended it (`onFatal: 'stop'`, or a flush that could not finish).
 */
export async function runFollowLoop(agent: Replicator, o: FollowLoopOptions): Promise<AgentError | undefined> {
  let started = false;
  let first = true;
  let backoff = 0;
  /** The last attempt's failure, cleared by a sync that succeeds. */
  let failure: Error | undefined;
  while (!o.signal.aborted) {
    const at = Date.now();
    try {
      if (!started) {
        await agent.start();
        started = true;
      }
      const r = await agent.sync();
      backoff = 0;
      failure = undefined;
      o.onSynced?.(r, at);
      if (!o.once) await agent.settleRead(Math.min(DEFAULT_RESTART_WAIT_MS, o.intervalMs), o.signal);
    } catch (e) {
      if (!started && o.once && !(e instanceof AgentError)) throw e;
      failure = e as Error;
      if (e instanceof AgentError) {
        o.say({ event: 'fatal', code: e.code, error: e.message, ...(e.details ? { details: e.details } : {}) });
        if (o.onFatal === 'stop') return e;
        backoff = MAX_BACKOFF_MS;
      } else {
        backoff = Math.min(MAX_BACKOFF_MS, backoff === 0 ? o.intervalMs : backoff * 2);
        o.say({ event: 'error', error: (e as Error).message, retryInMs: backoff });
      }
    }
    if (first) {
      first = false;
      o.onFirstSync?.();
    }
    if (o.once) return failure && unflushed(failure);
    await sleep(backoff || o.intervalMs, o.signal);
  }
  if (!started) return failure && unflushed(failure);
  try {
    await flush(agent, o);
    return undefined;
  } catch (e) {
    if (!(e instanceof AgentError)) throw e;
    o.say({ event: 'fatal', code: e.code, error: e.message, ...(e.details ? { details: e.details } : {}) });
    return e;
  }
}

/**
 * The last sync before exit: everything committed to the file, whatever state the view is in (sync
 * checks the files and rescans when it must). Transient failures are retried until FLUSH_DEADLINE_MS;
 * then AgentError UNFLUSHED.
 */
async function flush(agent: Replicator, o: FollowLoopOptions): Promise<void> {
  const deadline = Date.now() + FLUSH_DEADLINE_MS;
  for (let backoff = 250; ; backoff = Math.min(backoff * 2, 5_000)) {
    const at = Date.now();
    try {
      o.onSynced?.(await agent.sync(), at);
      return;
    } catch (e) {
      if (e instanceof AgentError) throw e;
      if (Date.now() + backoff > deadline) {
        throw new AgentError('UNFLUSHED', `stopping without pushing everything committed: ${(e as Error).message}`, undefined, {
          cause: e,
        });
      }
      o.say({ event: 'error', error: (e as Error).message, retryInMs: backoff });
      await new Promise((resolve) => setTimeout(resolve, backoff));
    }
  }
}

/** `e` as the reason a stop left commits unpushed: itself when it is an AgentError, else UNFLUSHED. */
function unflushed(e: Error): AgentError {
  return e instanceof AgentError
    ? e
    : new AgentError('UNFLUSHED', `stopping without pushing everything committed: ${e.message}`, undefined, { cause: e });
}

/** Waits `ms`, or less when `signal` aborts. */
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
