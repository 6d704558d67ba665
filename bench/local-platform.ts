// The real local platform for benchmarks: `wrangler dev` over throwaway state that survives restarts
// (a restart = a fresh isolate with empty caches and a cold Durable Object, over the same R2 data).

import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, spawnWranglerDev, stopProcessGroup, waitForHealth } from '../scripts/lib/wrangler-dev.ts';

/** The dev token of .dev.vars (all scopes, all databases). */
export const DEV_TOKEN = 'dev-token';

/** `wrangler dev` with `--persist-to <dir>/state`; the test helper (test/helpers/dev-server.ts) cannot restart over the same state. */
export class LocalPlatform {
  readonly dir: string;
  url = '';
  private child: ChildProcess | undefined;
  private readonly logFile: string;
  private readonly killOnExit = (): void => {
    try {
      if (this.child?.pid !== undefined) process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };

  private constructor(dir: string) {
    this.dir = dir;
    this.logFile = path.join(dir, 'wrangler.log');
  }

  /** Starts wrangler dev on a free port with state in a new temporary directory; resolves once /v1/health answers. */
  static async start(): Promise<LocalPlatform> {
    const p = new LocalPlatform(mkdtempSync(path.join(tmpdir(), 'ltx-edge-bench-')));
    process.once('exit', p.killOnExit);
    try {
      await p.spawn();
    } catch (e) {
      await p.stop();
      throw e;
    }
    return p;
  }

  /** wrangler's output so far (every run, appended). */
  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Stops wrangler and workerd and starts them again over the same state (a new port). */
  async restart(): Promise<void> {
    if (this.child) await stopProcessGroup(this.child);
    this.child = undefined;
    await this.spawn();
  }

  /** Stops everything and removes the state. */
  async stop(): Promise<void> {
    process.off('exit', this.killOnExit);
    if (this.child) await stopProcessGroup(this.child);
    this.child = undefined;
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Starts wrangler dev; a port another process took between freePort() and wrangler's bind is retried on new ports. */
  private async spawn(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const mark = this.log().length;
      try {
        await this.spawnOnce();
        return;
      } catch (e) {
        if (this.child) await stopProcessGroup(this.child);
        this.child = undefined;
        if (attempt >= 3 || !this.log().slice(mark).includes('Address already in use')) throw e;
      }
    }
  }

  private async spawnOnce(): Promise<void> {
    const port = await freePort();
    const inspectorPort = await freePort();
    const fd = openSync(this.logFile, 'a');
    const args = ['--port', String(port), '--ip', '127.0.0.1', '--inspector-port', String(inspectorPort)];
    args.push('--persist-to', path.join(this.dir, 'state'), '--show-interactive-dev-session=false');
    // Output to a file, not a pipe nobody drains (a full pipe would stall the server).
    this.child = spawnWranglerDev(args, { detached: true, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.url = `http://127.0.0.1:${port}`;
    try {
      await waitForHealth(this.url, { child: this.child, timeoutMs: 60_000 });
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- wrangler output ---\n${this.log().slice(-4000)}`);
    }
  }
}
