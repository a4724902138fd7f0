-- The local DynamoDB tables' SQLite-only texts (the rest are in items.sql).

-- name: lock_item
-- The item a conditional write reads before it decides. BEGIN IMMEDIATE already holds the
-- database's write lock, so a plain read is enough: no other writer can interleave.
SELECT item FROM item_rows WHERE table_name = :t AND pk = :pk AND sk = :sk;
