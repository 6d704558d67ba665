// `wrangler dev` as a child process for scripts and end-to-end tests: project Node, offline env, health wait, group stop.

import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';

export const REPO_DIR = path.resolve(import.meta.dirname, '../..');
/** The wrangler CLI of node_modules; run with this process's Node (24: wrangler needs ≥ 22, the system one may be older). */
export const WRANGLER_BIN = path.join(REPO_DIR, 'node_modules/.bin/wrangler');
/** No telemetry, no request.cf lookup: local dev never needs the network (README "Offline"). */
export const OFFLINE_ENV = { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' } as const;

export interface SpawnWranglerOptions {
  stdio?: StdioOptions;
  /** Own process group, so stopProcessGroup can end wrangler and workerd together (tests, measurements). */
  detached?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** Starts `wrangler dev <args>` in the repository. */
export function spawnWranglerDev(args: readonly string[], opts: SpawnWranglerOptions = {}): ChildProcess {
  return spawn(process.execPath, [WRANGLER_BIN, 'dev', ...args], {
    cwd: REPO_DIR,
    env: { ...process.env, ...OFFLINE_ENV, ...opts.env },
    stdio: opts.stdio ?? 'inherit',
    detached: opts.detached ?? false,
  });
}

/** The port of `--port N` / `--port=N` in wrangler's arguments; `fallback` (wrangler's default 8787) otherwise. */
export function portFromArgs(args: readonly string[], fallback = 8787): number {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = a === '--port' ? args[i + 1] : a.startsWith('--port=') ? a.slice('--port='.length) : undefined;
    if (value !== undefined && /^\d+$/.test(value)) return Number(value);
  }
  return fallback;
}

/**
 * Resolves once GET <base>/v1/health answers 200. Rejects when `child` exits first or after
 * `timeoutMs` (default 120 s: the first start bundles the Worker and boots workerd).
 */
export async function waitForHealth(
  base: string,
  opts: { child?: ChildProcess; timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  const url = new URL('/v1/health', base).href;
  for (;;) {
    const { child } = opts;
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`wrangler dev exited (${child.exitCode ?? child.signalCode}) before ${url} answered`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      await res.body?.cancel();
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${opts.timeoutMs ?? 120_000} ms`);
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 250));
  }
}

/** A TCP port that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Stops a child started with `detached: true` and everything in its process group (wrangler's own
 * Node child, workerd): `signal` first, SIGKILL for whatever is left after `timeoutMs`.
 */
export async function stopProcessGroup(child: ChildProcess, opts: { signal?: NodeJS.Signals; timeoutMs?: number } = {}): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const killGroup = (signal: NodeJS.Signals | 0): boolean => {
    try {
      process.kill(-pid, signal);
      return true;
    } catch {
      return false; // ESRCH: the group is gone
    }
  };
  if (!killGroup(opts.signal ?? 'SIGTERM')) return;
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  while (Date.now() < deadline) {
    if (!killGroup(0)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  killGroup('SIGKILL');
}
