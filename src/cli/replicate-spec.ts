// What `ltx-edge replicate` follows: one database with every default resolved, from the command line or a config file.

/** One database the agent follows. */
export interface FollowSpec {
  /** The SQLite file. */
  path: string;
  /** Its name on the server. */
  db: string;
  url: string;
  token: string | undefined;
  /** Time between syncs (ms). */
  intervalMs: number;
}

/** `app.db` → `app`; names allowed on the server are checked there. */
export function defaultDatabaseName(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  return base.replace(/\.(db|sqlite3?|sqlite)$/i, '') || base;
}
