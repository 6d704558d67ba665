// The database's name as its DurableObject keeps it (meta 'name'): written at the first write, read by alarms and start-up.

import type { SqlExec } from './migrate.ts';

export class StoredName {
  private readonly sql: SqlExec;
  /** The name this instance knows is stored (saves a write per write). */
  private known: string | undefined;

  constructor(sql: SqlExec) {
    this.sql = sql;
  }

  get(): string | undefined {
    const r = this.sql.exec("SELECT value FROM meta WHERE key = 'name'").toArray()[0];
    return r ? String(r.value) : undefined;
  }

  /** Stores the name once (a write before an R2 put would make the output gate hold the put). */
  remember(name: string): void {
    if (this.known === name) return;
    this.sql.exec("INSERT INTO meta (key, value) VALUES ('name', ?) ON CONFLICT (key) DO NOTHING", name);
    this.known = name;
  }

  /** The meta table was cleared (the database was deleted). */
  forget(): void {
    this.known = undefined;
  }
}
