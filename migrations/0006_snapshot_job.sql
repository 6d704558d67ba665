-- DatabaseDO schema v6: a chunked snapshot in progress (src/durable/snapshot-job.ts). Its state is the
-- meta row 'snapshot-job' (JSON); these hold the output's page index so far and its bytes not yet
-- uploaded as a part, so the next step (an alarm, or the next cron tick) continues where one ended.
CREATE TABLE IF NOT EXISTS snapshot_index (
  pgno INTEGER PRIMARY KEY,
  offset INTEGER NOT NULL,
  size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS snapshot_tail (
  seq INTEGER PRIMARY KEY,
  bytes BLOB NOT NULL
);
