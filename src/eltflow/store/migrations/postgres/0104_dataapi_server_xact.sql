-- The warehouse transaction a statement runs in (PostgreSQL: pg_current_xact_id(), recorded
-- when it starts), so that after its process dies another process can cancel it on the server
-- and read back whether it committed (pg_xact_status) instead of guessing. NULL where the
-- warehouse has none to tell (DuckDB, Redshift, a statement that cannot run in a transaction).
ALTER TABLE dataapi_statements ADD COLUMN server_xact BIGINT;
