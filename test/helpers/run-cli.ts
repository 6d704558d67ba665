// Runs the real `ltx-edge` executable (bin/ltx-edge.js) as a child process, as a user would.

import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

export const REPO_DIR = path.resolve(import.meta.dirname, '../..');
export const CLI_PATH = path.join(REPO_DIR, 'bin/ltx-edge.js');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `env` adds to (or, with undefined values, removes from) the inherited environment. */
export interface CliOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs the CLI with Node 24 (vitest's own node: the `node` npm package) so .ts sources load directly. */
export function runCLI(args: readonly string[], options: CliOptions = {}): CliRun {
  const r = spawnSync(process.execPath, [CLI_PATH, ...args], {
    cwd: options.cwd ?? REPO_DIR,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, NODE_NO_WARNINGS: '1', ...options.env },
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the CLI and parses its stdout as JSON. */
export function runCLIJSON<T = unknown>(args: readonly string[], options: CliOptions = {}): CliRun & { json: T } {
  const r = runCLI(args, options);
  let json: T;
  try {
    json = JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.status}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
  return { ...r, json };
}

/**
 * runCLI without blocking the event loop, for tests whose server lives in this process (spawnSync
 * would deadlock it) or that run several CLIs at once.
 */
export async function runCLIAsync(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    cwd: options.cwd ?? REPO_DIR,
    env: { ...process.env, NODE_NO_WARNINGS: '1', ...options.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  return { status: signal ? null : code, stdout, stderr };
}

/** runCLIAsync, its stdout parsed as JSON. */
export async function runCLIAsyncJSON<T = unknown>(args: readonly string[], options: CliOptions = {}): Promise<CliRun & { json: T }> {
  const r = await runCLIAsync(args, options);
  try {
    return { ...r, json: JSON.parse(r.stdout) as T };
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.status}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}
