-- DatabaseDO schema v4: counters behind GET /v1/databases/:db/stats, and the last error seen.

CREATE TABLE IF NOT EXISTS stats (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL DEFAULT 0
);
