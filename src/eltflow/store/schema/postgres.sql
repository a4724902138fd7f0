-- The runtime schema as a fresh install would create it: tests/migration checks that applying
-- every numbered migration in 0001-0099 gives exactly this.

CREATE TABLE sfn_machines (
    name TEXT PRIMARY KEY,
    arn TEXT NOT NULL UNIQUE,
    current_version_id BIGINT NOT NULL,
    role_arn TEXT NOT NULL,
    machine_type TEXT NOT NULL,
    created_us BIGINT NOT NULL,
    updated_us BIGINT NOT NULL
);

CREATE TABLE sfn_versions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    machine_name TEXT NOT NULL,
    version BIGINT NOT NULL,
    definition TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_us BIGINT NOT NULL,
    retired_us BIGINT
);

CREATE TABLE sfn_executions (
    id TEXT PRIMARY KEY,
    arn TEXT NOT NULL UNIQUE,
    machine_name TEXT NOT NULL,
    version_id BIGINT NOT NULL REFERENCES sfn_versions (id),
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT NOT NULL,
    output TEXT,
    error TEXT,
    cause TEXT,
    start_us BIGINT NOT NULL,
    stop_us BIGINT,
    redrive_count BIGINT NOT NULL DEFAULT 0,
    redrive_us BIGINT,
    snapshot TEXT,
    event_count BIGINT NOT NULL DEFAULT 0,
    wake_us BIGINT,
    lease_owner TEXT,
    lease_expires_us BIGINT,
    map_run_arn TEXT,
    item_index BIGINT,
    item_count BIGINT,
    root_id TEXT,
    awaited BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX sfn_executions_runnable ON sfn_executions (wake_us) WHERE status = 'RUNNING';

CREATE UNIQUE INDEX sfn_executions_map_run ON sfn_executions (map_run_arn, item_index)
WHERE map_run_arn IS NOT NULL;

CREATE INDEX sfn_executions_map_run_status ON sfn_executions (map_run_arn, status)
WHERE map_run_arn IS NOT NULL;

CREATE INDEX sfn_executions_top ON sfn_executions (start_us) WHERE map_run_arn IS NULL;

CREATE INDEX sfn_executions_root_running ON sfn_executions (root_id) WHERE status = 'RUNNING';

CREATE TABLE sfn_history_steps (
    execution_id TEXT NOT NULL REFERENCES sfn_executions (id) ON DELETE CASCADE,
    first_seq BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    events TEXT NOT NULL,
    PRIMARY KEY (execution_id, first_seq)
);

CREATE TABLE sfn_snapshot_parts (
    execution_id TEXT NOT NULL REFERENCES sfn_executions (id) ON DELETE CASCADE,
    part TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (execution_id, part)
);

CREATE TABLE sfn_tasks (
    execution_id TEXT NOT NULL REFERENCES sfn_executions (id) ON DELETE CASCADE,
    task_id TEXT NOT NULL,
    state_name TEXT NOT NULL,
    resource TEXT NOT NULL,
    parameters TEXT NOT NULL,
    timeout_seconds DOUBLE PRECISION,
    heartbeat_seconds DOUBLE PRECISION,
    task_token TEXT,
    started BIGINT NOT NULL DEFAULT 0,
    attempt BIGINT NOT NULL DEFAULT 0,
    checkpoint TEXT,
    created_us BIGINT NOT NULL,
    awaits TEXT,
    PRIMARY KEY (execution_id, task_id)
);

CREATE TABLE sfn_sync_waits (
    parent_id TEXT NOT NULL REFERENCES sfn_executions (id) ON DELETE CASCADE,
    task_id TEXT NOT NULL,
    child_id TEXT NOT NULL REFERENCES sfn_executions (id) ON DELETE CASCADE,
    PRIMARY KEY (parent_id, task_id)
);

CREATE INDEX sfn_sync_waits_child ON sfn_sync_waits (child_id);

CREATE TABLE sfn_timers (
    execution_id TEXT NOT NULL REFERENCES sfn_executions (id) ON DELETE CASCADE,
    timer_id TEXT NOT NULL,
    due_us BIGINT NOT NULL,
    PRIMARY KEY (execution_id, timer_id)
);

CREATE TABLE sfn_inbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    execution_id TEXT NOT NULL REFERENCES sfn_executions (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_us BIGINT NOT NULL
);

CREATE INDEX sfn_inbox_execution ON sfn_inbox (execution_id);

CREATE TABLE sfn_activities (
    name TEXT PRIMARY KEY,
    arn TEXT NOT NULL UNIQUE,
    created_us BIGINT NOT NULL
);

CREATE TABLE sfn_workers (
    owner TEXT PRIMARY KEY,
    started_us BIGINT NOT NULL,
    heartbeat_us BIGINT NOT NULL
);

CREATE TABLE sfn_idle_listeners (
    channel TEXT PRIMARY KEY,
    since_us BIGINT NOT NULL,
    busy_until_us BIGINT
);

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

-- Which worker a start's wake-up goes to (see migration 0014).
CREATE FUNCTION sfn_notify_work() RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    now_us BIGINT := (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT;
    picked TEXT;
    picked_until BIGINT;
BEGIN
    SELECT channel INTO picked FROM sfn_idle_listeners
    WHERE busy_until_us > now_us
    ORDER BY since_us
    LIMIT 1;
    IF picked IS NULL THEN
        SELECT channel, busy_until_us INTO picked, picked_until FROM sfn_idle_listeners
        WHERE busy_until_us IS NULL OR busy_until_us <= now_us
        ORDER BY since_us DESC
        LIMIT 1
        FOR UPDATE SKIP LOCKED;
        IF picked_until IS NOT NULL THEN
            DELETE FROM sfn_idle_listeners WHERE channel = picked;
        ELSIF picked IS NOT NULL THEN
            UPDATE sfn_idle_listeners SET busy_until_us = now_us + 1000000
            WHERE channel = picked;
        END IF;
    END IF;
    PERFORM pg_notify(COALESCE(picked, 'eltflow_work'), '');
END
$$;
