-- Named queries of the local DynamoDB tables (eltflow.items.storage), shared by both dialects;
-- lock_item differs and is in items.sqlite.sql and items.postgres.sql. Tables of migration 0200:
-- one item_tables row per table, one item_rows row per item (pk/sk: the canonical text of the
-- key values, sk = '' without a sort key; item: DynamoDB's wire JSON).

-- name: insert_table
INSERT INTO item_tables (name, partition_key, partition_type, sort_key, sort_type, created_at)
VALUES (:n, :pk, :pt, :sk, :st, :at);

-- name: get_table
SELECT * FROM item_tables WHERE name = :n;

-- name: list_tables
SELECT * FROM item_tables ORDER BY name;

-- name: delete_table_items
DELETE FROM item_rows WHERE table_name = :n;

-- name: delete_table
DELETE FROM item_tables WHERE name = :n;

-- name: count_items
-- The item count and the bytes of their JSON (DescribeTable's ItemCount and TableSizeBytes).
SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(item)), 0) AS b FROM item_rows WHERE table_name = :n;

-- name: get_item
SELECT item FROM item_rows WHERE table_name = :t AND pk = :pk AND sk = :sk;

-- name: partition_items
SELECT item FROM item_rows WHERE table_name = :t AND pk = :pk;

-- name: scan_items
SELECT item FROM item_rows WHERE table_name = :t ORDER BY pk, sk;

-- name: delete_item
DELETE FROM item_rows WHERE table_name = :t AND pk = :pk AND sk = :sk;

-- name: update_item
UPDATE item_rows SET item = :item WHERE table_name = :t AND pk = :pk AND sk = :sk;

-- name: insert_item
-- Nothing returned: a concurrent transaction inserted the item first (PostgreSQL, where a
-- missing row cannot be locked); the caller retries its whole read-check-write.
INSERT INTO item_rows (table_name, pk, sk, item) VALUES (:t, :pk, :sk, :item)
ON CONFLICT (table_name, pk, sk) DO NOTHING RETURNING pk;
