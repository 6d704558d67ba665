-- DatabaseDO schema v1: position, the catalog of live LTX files, and per-page checksums.

-- The head of the database: one row once the first file is committed. TXIDs and checksums are
-- 16 lowercase hex digits (they are unsigned 64-bit; SQLite integers are signed).
CREATE TABLE IF NOT EXISTS position (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  page_size INTEGER NOT NULL,
  commit_pages INTEGER NOT NULL,
  txid TEXT NOT NULL,
  checksum TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

-- Every committed LTX object in R2, by level and TXID range (Litestream layout, DESIGN §2).
CREATE TABLE IF NOT EXISTS files (
  level INTEGER NOT NULL,
  min_txid TEXT NOT NULL,
  max_txid TEXT NOT NULL,
  size INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  file_checksum TEXT NOT NULL,
  post_apply_checksum TEXT NOT NULL,
  commit_pages INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (level, min_txid)
);

-- The checksum of every page at the head (ltx.ChecksumPage), split into 32-bit halves so the
-- values survive SQLite's signed integers and JavaScript numbers. Lets the DO compute the true
-- post-apply checksum of files that carry none (Litestream writes every file with NoChecksum).
CREATE TABLE IF NOT EXISTS pages (
  pgno INTEGER PRIMARY KEY,
  hi INTEGER NOT NULL,
  lo INTEGER NOT NULL
);

-- Checksums of the file being ingested, moved into `pages` in the same transaction as the
-- catalog row that commits the file; emptied when an ingest fails or the DO starts.
CREATE TABLE IF NOT EXISTS pages_staging (
  pgno INTEGER PRIMARY KEY,
  hi INTEGER NOT NULL,
  lo INTEGER NOT NULL
);

-- Small facts about the database itself, e.g. its name (a DO does not know the name it was made from).
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
