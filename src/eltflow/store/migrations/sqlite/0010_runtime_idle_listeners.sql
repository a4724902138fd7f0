-- Idle PostgreSQL workers waiting on their own LISTEN channel (issue 16). A start that makes
-- work takes one row and notifies only that channel, so one idle worker wakes per new item
-- instead of every worker racing for it; with no row it notifies the channel all listen on.
-- Unused on SQLite (no notifications); created there too so both dialects have one schema.
CREATE TABLE sfn_idle_listeners (
    channel TEXT PRIMARY KEY,
    since_us INTEGER NOT NULL
);
