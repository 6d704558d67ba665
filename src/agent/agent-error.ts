// Typed failures of the replication agent: each carries a stable code the CLI prints and --json reports.

import { type Pos, type PushedState, formatPos } from './agent-state.ts';

/** Codes the agent stops with. */
export const AGENT_ERROR_CODES = [
  'NOT_SQLITE', // the file is not a SQLite database
  'WAL_MODE', // the database is not in WAL mode and could not be switched
  'PAGE_SIZE', // the server's database has another page size
  'DIVERGED', // the server holds a history this file did not come from (another writer, a restore)
  'SERVER_AHEAD', // the server is past what this agent last pushed: another writer?
  'SERVER_BEHIND', // the server lost TXIDs this agent had pushed (deleted, restored)
  'REJECTED', // the server refused a push for a reason retrying cannot fix
  'UNFLUSHED', // stopped (SIGINT/SIGTERM) before everything committed could be pushed: the server was unreachable
] as const;

export type AgentErrorCode = (typeof AGENT_ERROR_CODES)[number];

export class AgentError extends Error {
  readonly code: AgentErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: AgentErrorCode, message: string, details?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AgentError';
    this.code = code;
    this.details = details;
  }
}

/**
 * What the agent read is no longer what is on disk — a WAL frame overwritten by a new generation, a page
 * that changed after its checksum was taken: the read is thrown away and the database read again.
 * Never fatal, never sent: a push that meets it is aborted before its trailer, so the server commits nothing.
 */
export class ViewChangedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ViewChangedError';
  }
}

/** Why the server's history is not this file's: the code says which way it differs. */
export function divergence(db: string, file: string, server: Pos, ours: PushedState | undefined): AgentError {
  const at = `TXID ${formatPos(server).txid}`;
  const details = { server: formatPos(server), ...(ours ? { pushed: formatPos(ours.pos) } : {}) };
  const advice = "Replicate to a new name, or run with --reset-from-server to replace the local database with the server's state.";
  if (!ours) return new AgentError('DIVERGED', `${db} on the server (${at}) holds a history ${file} did not come from. ${advice}`, details);
  if (server.txid > ours.pos.txid) {
    return new AgentError(
      'SERVER_AHEAD',
      `${db} on the server is at ${at}, past TXID ${formatPos(ours.pos).txid} that this agent pushed last: another writer? ${advice}`,
      details,
    );
  }
  if (server.txid < ours.pos.txid) {
    return new AgentError(
      'SERVER_BEHIND',
      `${db} on the server is at ${at}, behind TXID ${formatPos(ours.pos).txid} that this agent pushed: restored or recreated? ${advice}`,
      details,
    );
  }
  return new AgentError('DIVERGED', `${db} on the server is at ${at} with another checksum than this agent pushed. ${advice}`, details);
}
