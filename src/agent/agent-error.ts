// Typed failures of the replication agent: each carries a stable code the CLI prints and --json reports.

/** Codes the agent stops with. */
export const AGENT_ERROR_CODES = [
  'NOT_SQLITE', // the file is not a SQLite database
  'WAL_MODE', // the database is not in WAL mode and could not be switched
  'PAGE_SIZE', // the server's database has another page size
  'DIVERGED', // the server holds a history this file did not come from (another writer, a restore)
  'SERVER_AHEAD', // the server is past what this agent last pushed: another writer?
  'SERVER_BEHIND', // the server lost TXIDs this agent had pushed (deleted, restored)
  'REJECTED', // the server refused a push for a reason retrying cannot fix
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
