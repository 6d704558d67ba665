// Applies the numbered SQL migrations to a Durable Object's SQLite, once each, in order (STYLE 12).

/** One schema step: `version` from the file name (0001_…), its SQL text. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The slice of SqlStorage migrations need (so the runner can be tested over any SQLite). */
export interface SqlExec {
  exec(query: string, ...bindings: unknown[]): { toArray(): Record<string, unknown>[] };
}

/**
 * Brings the schema up to the newest migration. Gated by the versions recorded in `_migrations`,
 * so re-running is a no-op; each migration and its record commit together in `transaction`.
 * Returns the versions applied now.
 */
export function applyMigrations(sql: SqlExec, migrations: readonly Migration[], transaction: <T>(fn: () => T) => T): number[] {
  sql.exec('CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const done = new Set(
    sql
      .exec('SELECT version FROM _migrations')
      .toArray()
      .map((r) => Number(r.version)),
  );
  const applied: number[] = [];
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  for (let i = 0; i < sorted.length; i++) {
    if (sorted[i].version !== i + 1) throw new Error(`migrations must be numbered 1..n, found ${sorted[i].version}`);
  }
  for (const m of sorted) {
    if (done.has(m.version)) continue;
    transaction(() => {
      for (const statement of splitStatements(m.sql)) sql.exec(statement);
      sql.exec('INSERT INTO _migrations (version, name, applied_at) VALUES (?, ?, ?)', m.version, m.name, Date.now());
    });
    applied.push(m.version);
  }
  return applied;
}

/** Splits a migration file into statements (`;` at a line end), dropping `--` comment lines. */
export function splitStatements(text: string): string[] {
  const body = text
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n');
  return body
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
