// `ltx-edge replicate --json` as a user runs it, in its own process: its events as they arrive, waits on them, and a signal to stop it.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { DEV_TOKEN } from './dev-server.ts';
import { CLI_PATH, REPO_DIR } from './run-cli.ts';

export type AgentEventJSON = Record<string, unknown> & { event: string };

export class AgentProcess {
  /** Every event printed so far, in order. */
  readonly events: AgentEventJSON[] = [];
  /** When each event arrived (performance.now()). */
  readonly arrivals: number[] = [];
  private readonly child: ChildProcess;
  private readonly exited: Promise<[number | null, NodeJS.Signals | null]>;
  private stderr = '';
  private waiters: (() => void)[] = [];

  /** `replicate <file> --url <url> --db <db> --json ...args`. */
  static follow(url: string, file: string, db: string, args: string[] = []): AgentProcess {
    return new AgentProcess(['replicate', file, '--url', url, '--db', db, '--json', ...args]);
  }

  /** The CLI with `argv` (after `ltx-edge`), the dev token in LTX_EDGE_TOKEN and `env` added. */
  constructor(argv: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [CLI_PATH, ...argv], {
      cwd: REPO_DIR,
      env: { ...process.env, NODE_NO_WARNINGS: '1', LTX_EDGE_TOKEN: DEV_TOKEN, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.events.push(JSON.parse(line) as AgentEventJSON);
      this.arrivals.push(performance.now());
      this.wake();
    });
    this.exited = once(this.child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
    void this.exited.then(() => this.wake());
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** What it wrote on stderr (its human-readable lines), for failure messages. */
  get errors(): string {
    return this.stderr;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves on the next event printed (or the exit), rejecting after `timeoutMs`. */
  nextEvent(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no agent event within ${timeoutMs} ms; stderr:\n${this.stderr}`)), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** The first event at index ≥ `from` that `match` accepts, waiting up to `timeoutMs` for it. */
  async waitFor(match: (e: AgentEventJSON) => boolean, from = 0, timeoutMs = 60_000): Promise<AgentEventJSON> {
    const deadline = Date.now() + timeoutMs;
    for (let i = from; ; ) {
      for (; i < this.events.length; i++) if (match(this.events[i])) return this.events[i];
      if (!this.running) throw new Error(`the agent exited; stderr:\n${this.stderr}`);
      await this.nextEvent(Math.max(1, deadline - Date.now()));
    }
  }

  /** The process id (for signals the test sends itself). */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Resolves with the exit code once it has exited on its own (null when a signal ended it). */
  async exit(): Promise<number | null> {
    const [code] = await this.exited;
    return code;
  }

  /** Sends `signal` and resolves with the exit status once it has exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.running) this.child.kill(signal);
    const [code] = await this.exited;
    return code;
  }
}
