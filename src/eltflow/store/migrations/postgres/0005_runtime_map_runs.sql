-- Distributed Map: a Map Run per Distributed Map state attempt, and its child executions,
-- which are executions of their own (history, snapshot, leases) linked to it by map_run_arn,
-- at item_index (the item's, or the batch's, position) holding item_count items. root_id is
-- the top-level execution a child works for, so a worker running only that execution
-- (`eltflow start --wait`) runs its children too.
ALTER TABLE sfn_executions ADD COLUMN map_run_arn TEXT;

ALTER TABLE sfn_executions ADD COLUMN item_index BIGINT;

ALTER TABLE sfn_executions ADD COLUMN item_count BIGINT;

ALTER TABLE sfn_executions ADD COLUMN root_id TEXT;

CREATE UNIQUE INDEX sfn_executions_map_run ON sfn_executions (map_run_arn, item_index);

CREATE INDEX sfn_executions_map_run_status ON sfn_executions (map_run_arn, status);

CREATE INDEX sfn_executions_root ON sfn_executions (root_id);

-- config: the Map Run's resolved settings (the task's parameters, JSON), read again by a
-- redrive. Counts of children are read from sfn_executions; results_written is the
-- ResultWriter's.
CREATE TABLE sfn_map_runs (
    arn TEXT PRIMARY KEY,
    execution_id TEXT NOT NULL REFERENCES sfn_executions (id) ON DELETE CASCADE,
    state_name TEXT NOT NULL,
    status TEXT NOT NULL,
    start_us BIGINT NOT NULL,
    stop_us BIGINT,
    max_concurrency BIGINT NOT NULL,
    tolerated_failure_count BIGINT NOT NULL,
    tolerated_failure_percentage DOUBLE PRECISION NOT NULL,
    total_items BIGINT,
    results_written BIGINT NOT NULL DEFAULT 0,
    redrive_count BIGINT NOT NULL DEFAULT 0,
    redrive_us BIGINT,
    error TEXT,
    cause TEXT,
    config TEXT NOT NULL
);

CREATE INDEX sfn_map_runs_execution ON sfn_map_runs (execution_id, start_us);
