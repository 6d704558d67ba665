-- DatabaseDO schema v7: each file's page-index length (bytes from the index's start to the end of the
-- object), so a read plan lets readers load an index with one exact ranged get. NULL for files
-- catalogued before this column: readers then probe the last 32 KiB, as Litestream does.
ALTER TABLE files ADD COLUMN index_bytes INTEGER;
