-- DatabaseDO schema v5: an incarnation id per database, assigned when its first file is committed and
-- never reused: a DELETE and a re-creation under the same name make a new one. Workers key every cache
-- (plans, page indexes, pages, the edge cache) by it, since R2 keys and TXIDs repeat after a re-creation.
-- Rows from before this version get theirs on the first read (catalog.ts).

ALTER TABLE position ADD COLUMN incarnation TEXT NOT NULL DEFAULT '';
