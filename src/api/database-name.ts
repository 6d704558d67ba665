// Database names (DESIGN §2): lowercase letters, digits, `.`, `_` and `-`, 1–63 characters, starting with a letter or digit, and no `..` — safe as a path segment, an R2 key segment and a DO name.

/** The characters and length; the dots rule (no "..") is checked by isValidDatabaseName. */
export const DATABASE_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** True when `name` is a valid database name. */
export function isValidDatabaseName(name: string): boolean {
  return DATABASE_NAME_PATTERN.test(name) && !name.includes('..');
}

/** A name prefix (GET /v1/databases?prefix=): empty, or the start of a valid name. */
export const DATABASE_PREFIX_PATTERN = /^(?:[a-z0-9][a-z0-9._-]{0,62})?$/;
