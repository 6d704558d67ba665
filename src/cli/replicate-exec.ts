// `replicate --exec "<command>"`: the application as the agent's child — started through the shell in its own process group, signals forwarded, its exit code kept.

import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { constants } from 'node:os';

/** The running command. */
export interface ExecChild {
  pid: number;
  /**
   * Sends `signal` to what the shell runs, not to the shell: the shell then waits for it and exits with
   * its status, so an application that handles SIGTERM (commits, then exits 7) is waited for and its 7
   * kept. A shell that exec'd its command (bash does for a simple one) is the application itself.
   */
  forward(signal: NodeJS.Signals): void;
  /** Its exit code; killed by a signal: 128 + the signal's number, as shells report it. */
  exited: Promise<number>;
}

/**
 * Starts `command` with `sh -c`, stdin/stdout/stderr shared with the agent. It gets a process group of
 * its own, so a terminal's Ctrl-C reaches it once, forwarded by the agent (which then waits for it to
 * exit before pushing what it committed), not twice.
 */
export function startExec(command: string): ExecChild {
  const child = spawn(command, { shell: true, stdio: 'inherit', detached: true });
  const exited = new Promise<number>((resolve) => {
    child.once('error', () => resolve(127));
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
  });
  return {
    pid: child.pid ?? -1,
    forward(signal) {
      const pid = child.pid;
      if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      const others = groupMembers(pid).filter((p) => p !== pid);
      for (const target of others.length > 0 ? others : [-pid]) {
        try {
          process.kill(target, signal);
        } catch {
          // gone meanwhile
        }
      }
    },
    exited,
  };
}

/**
 * The processes of process group `pgid` (Linux: /proc/<pid>/stat, field 5). Empty where there is no
 * /proc: then the whole group is signalled, the shell included.
 */
function groupMembers(pgid: number): number[] {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  const members: number[] = [];
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) members.push(Number(pid));
    } catch {
      // exited meanwhile
    }
  }
  return members;
}
