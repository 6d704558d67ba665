-- DatabaseDO schema v2: which file last wrote each page, so a read at the head goes straight to
-- the one file that holds the page (a cold page read costs one index read and one frame read).

-- The MaxTXID (16 hex) of the file that last wrote the page; any live file covering that TXID
-- holds this version of the page (a compaction or snapshot over it keeps the newest version).
ALTER TABLE pages ADD COLUMN writer TEXT NOT NULL DEFAULT '0000000000000000';
