-- DynamoDB-compatible item tables: one row per table, one row per item (typed JSON).
CREATE TABLE IF NOT EXISTS item_tables (
    name TEXT PRIMARY KEY,
    partition_key TEXT NOT NULL,
    partition_type TEXT NOT NULL,
    sort_key TEXT,
    sort_type TEXT,
    created_at TEXT NOT NULL
);
-- pk/sk hold the canonical text of the key values (sk = '' without a sort key), so equal keys
-- collide on the primary key; the item itself is DynamoDB's wire JSON.
CREATE TABLE IF NOT EXISTS item_rows (
    table_name TEXT NOT NULL REFERENCES item_tables (name) ON DELETE CASCADE,
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    item TEXT NOT NULL,
    PRIMARY KEY (table_name, pk, sk)
);
