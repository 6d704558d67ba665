-- DatabaseDO schema v3: a file is identified by (level, min, max), as its R2 key is. Every level-9
-- snapshot starts at TXID 1, so (level, min) alone let a second snapshot collide with the first.

CREATE TABLE files_v3 (
  level INTEGER NOT NULL,
  min_txid TEXT NOT NULL,
  max_txid TEXT NOT NULL,
  size INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  file_checksum TEXT NOT NULL,
  post_apply_checksum TEXT NOT NULL,
  commit_pages INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (level, min_txid, max_txid)
);
INSERT INTO files_v3 SELECT level, min_txid, max_txid, size, timestamp, file_checksum, post_apply_checksum, commit_pages, created_at FROM files;
DROP TABLE files;
ALTER TABLE files_v3 RENAME TO files;
CREATE INDEX IF NOT EXISTS files_max_txid ON files (max_txid);
