// The sqlite3_limit values every query connection runs with, each with why; applied on open and read back by the tests.

import * as SQLite from '@journeyapps/wa-sqlite/src/sqlite-constants.js';
import { MAX_SELECTS, MAX_SQL_BYTES } from './sql-complexity.ts';
import type { SqliteModule } from './sqlite-module.ts';

/** Longest TEXT or BLOB SQLite may build in a query: a quarter of the heap ceiling (64 MiB), so a few such values fit. */
export const MAX_VALUE_BYTES = 16 * 1024 * 1024;

export interface ConnectionLimit {
  /** SQLITE_LIMIT_* id. */
  id: number;
  name: string;
  /** What the connection is set to. */
  value: number;
  /** What sqlite3_limit reads back in this build (the build's compile-time maximum caps a setting). */
  effective: number;
}

const limit = (id: number, name: string, value: number, effective = value): ConnectionLimit => ({ id, name, value, effective });

/** Every limit of SQLite 3.53, with the value a query connection gets. Build maxima: sqlite3_compileoption_get (MAX_*). */
export const CONNECTION_LIMITS: readonly ConnectionLimit[] = [
  limit(SQLite.SQLITE_LIMIT_LENGTH, 'LENGTH', MAX_VALUE_BYTES),
  // The same ceiling as the engine's own check, before the scan (sql-complexity.ts).
  limit(SQLite.SQLITE_LIMIT_SQL_LENGTH, 'SQL_LENGTH', MAX_SQL_BYTES),
  // SQLite's default: a table written by stock SQLite may have this many columns, and a lower limit
  // would make its schema unreadable here (the limit applies when the schema is parsed).
  limit(SQLite.SQLITE_LIMIT_COLUMN, 'COLUMN', 2000),
  // SQLite's default depth, but compiled out of this build (SQLITE_MAX_EXPR_DEPTH=0): it reads back 0
  // and checks nothing. The complexity scan and the stack guard stand in for it.
  limit(SQLite.SQLITE_LIMIT_EXPR_DEPTH, 'EXPR_DEPTH', 1000, 0),
  // Each compound term is a level of recursion (~300 bytes of stack): the scan's limit, which also
  // holds for views of the schema the scan cannot see (500 by default).
  limit(SQLite.SQLITE_LIMIT_COMPOUND_SELECT, 'COMPOUND_SELECT', MAX_SELECTS),
  // Instructions of one program (~24 bytes each: 6 MB). SQL the scan admits compiles to tens of
  // thousands at most; only views or CTEs expanded over and over reach this (250M by default).
  limit(SQLite.SQLITE_LIMIT_VDBE_OP, 'VDBE_OP', 250_000),
  // SQLite's default since 3.48 (json_object with hundreds of pairs); arguments are a flat list.
  limit(SQLite.SQLITE_LIMIT_FUNCTION_ARG, 'FUNCTION_ARG', 1000),
  // No attached databases: a query reads its own file only (ATTACH fails with SQL_ERROR).
  limit(SQLite.SQLITE_LIMIT_ATTACHED, 'ATTACHED', 0),
  // A pattern is matched with one level of recursion per wildcard; real patterns are short, 10 KB
  // leaves room for generated ones (50,000 by default).
  limit(SQLite.SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 'LIKE_PATTERN_LENGTH', 10_000),
  // SQLite's default: `?NNN` makes SQLite allocate NNN value slots (56 bytes each, 1.8 MB at most).
  limit(SQLite.SQLITE_LIMIT_VARIABLE_NUMBER, 'VARIABLE_NUMBER', 32_766),
  // Reads fire no triggers; 1 would refuse any recursion if one ever did.
  limit(SQLite.SQLITE_LIMIT_TRIGGER_DEPTH, 'TRIGGER_DEPTH', 1),
  // No helper threads (the build's maximum is 0 anyway).
  limit(SQLite.SQLITE_LIMIT_WORKER_THREADS, 'WORKER_THREADS', 0),
];

/** Sets every CONNECTION_LIMITS value on `db`. */
export function applyConnectionLimits(mod: SqliteModule, db: number): void {
  for (const l of CONNECTION_LIMITS) mod._sqlite3_limit(db, l.id, l.value);
}

/** The limits in effect on `db` (sqlite3_limit with -1 reads without setting), by name. */
export function readConnectionLimits(mod: SqliteModule, db: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of CONNECTION_LIMITS) out[l.name] = mod._sqlite3_limit(db, l.id, -1);
  return out;
}
