// The real local platform for end-to-end tests: `wrangler dev` on a free port with throwaway state, stopped as a group.

import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, spawnWranglerDev, stopProcessGroup, waitForHealth } from '../../scripts/lib/wrangler-dev.ts';

export { freePort, stopProcessGroup } from '../../scripts/lib/wrangler-dev.ts';

/** The dev token of .dev.vars (all scopes, all databases). */
export const DEV_TOKEN = 'dev-token';

export interface DevServer {
  url: string;
  /** Temporary directory: `state/` is wrangler's --persist-to, `wrangler.log` its output. */
  dir: string;
  child: ChildProcess;
  /** wrangler's output so far, for failure messages. */
  log(): string;
  /** Stops wrangler and workerd (the whole process group) and removes `dir`. */
  stop(): Promise<void>;
}

/**
 * Starts `wrangler dev` with state in a new temporary directory, never the developer's .wrangler/state.
 * Output goes to a file, not a pipe: a pipe nobody drains while a test blocks in spawnSync would stall
 * the server. Resolves once /v1/health answers. `vars` are passed as `--var NAME:VALUE`.
 */
export async function startDevServer(opts: { vars?: Record<string, string> } = {}): Promise<DevServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ltx-edge-e2e-'));
  const port = await freePort();
  const inspectorPort = await freePort();
  const logFile = path.join(dir, 'wrangler.log');
  const fd = openSync(logFile, 'w');
  const args = ['--port', String(port), '--ip', '127.0.0.1', '--inspector-port', String(inspectorPort)];
  args.push('--persist-to', path.join(dir, 'state'), '--show-interactive-dev-session=false');
  // `vars` override wrangler.toml's [vars] (e.g. a larger LTX_EDGE_MAX_DATABASE_BYTES).
  for (const [name, value] of Object.entries(opts.vars ?? {})) args.push('--var', `${name}:${value}`);
  const child = spawnWranglerDev(args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  // A detached group outlives its parent: if the test process ends without afterAll (a crash, a
  // timeout), take wrangler and workerd down with it rather than leave them listening.
  const killOnExit = (): void => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  process.once('exit', killOnExit);
  const url = `http://127.0.0.1:${port}`;
  const log = (): string => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async (): Promise<void> => {
    process.off('exit', killOnExit);
    await stopProcessGroup(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForHealth(url, { child, timeoutMs: 60_000 });
  } catch (e) {
    const output = log();
    await stop();
    throw new Error(`${(e as Error).message}\n--- wrangler output ---\n${output}`);
  }
  return { url, dir, child, log, stop };
}

/** GET <url><path> with the dev token. */
export function devFetch(server: { url: string }, p: string, init: RequestInit = {}): Promise<Response> {
  return fetch(server.url + p, { ...init, headers: { authorization: `Bearer ${DEV_TOKEN}`, ...init.headers } });
}
