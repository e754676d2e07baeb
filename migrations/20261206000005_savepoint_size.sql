-- the savepoint's size as the engine's checkpoint statistics report it (bytes of
-- state); null where the engine no longer had its statistics when it completed.
alter table savepoints add column size_bytes bigint;
