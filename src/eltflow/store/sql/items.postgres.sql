-- The local DynamoDB tables' PostgreSQL-only texts (the rest are in items.sql).

-- name: lock_item
-- The item a conditional write reads before it decides, locked until the transaction ends so
-- no concurrent write changes it in between. A missing row cannot be locked: insert_item's
-- ON CONFLICT DO NOTHING catches that race.
SELECT item FROM item_rows WHERE table_name = :t AND pk = :pk AND sk = :sk FOR UPDATE;
