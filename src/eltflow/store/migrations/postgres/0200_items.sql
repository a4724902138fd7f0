-- DynamoDB-compatible item tables: one row per table, one row per item (typed JSON).
CREATE TABLE IF NOT EXISTS item_tables (
    name TEXT PRIMARY KEY,
    partition_key TEXT NOT NULL,
    partition_type TEXT NOT NULL,
    sort_key TEXT,
    sort_type TEXT,
    created_at TEXT NOT NULL
);
-- COLLATE "C": byte order, the same as SQLite's, so Scan pages in the same order on both.
CREATE TABLE IF NOT EXISTS item_rows (
    table_name TEXT NOT NULL REFERENCES item_tables (name) ON DELETE CASCADE,
    pk TEXT COLLATE "C" NOT NULL,
    sk TEXT COLLATE "C" NOT NULL,
    item TEXT NOT NULL,
    PRIMARY KEY (table_name, pk, sk)
);
