-- The runtime schema as a fresh install would create it: tests/migration checks that applying
-- every numbered migration in 0001-0099 gives exactly this.

CREATE TABLE sfn_machines (
    name TEXT PRIMARY KEY,
    arn TEXT NOT NULL UNIQUE,
    current_version_id INTEGER NOT NULL,
    role_arn TEXT NOT NULL,
    machine_type TEXT NOT NULL,
    created_us INTEGER NOT NULL,
    updated_us INTEGER NOT NULL
);

CREATE TABLE sfn_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    machine_name TEXT NOT NULL,
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_us INTEGER NOT NULL,
    retired_us INTEGER
);

CREATE TABLE sfn_executions (
    id TEXT PRIMARY KEY,
    arn TEXT NOT NULL UNIQUE,
    machine_name TEXT NOT NULL,
    version_id INTEGER NOT NULL REFERENCES sfn_versions (id),
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT NOT NULL,
    output TEXT,
    error TEXT,
    cause TEXT,
    start_us INTEGER NOT NULL,
    stop_us INTEGER,
    redrive_count INTEGER NOT NULL DEFAULT 0,
    redrive_us INTEGER,
    snapshot TEXT,
    event_count INTEGER NOT NULL DEFAULT 0,
    wake_us INTEGER,
    lease_owner TEXT,
    lease_expires_us INTEGER,
    map_run_arn TEXT,
    item_index INTEGER,
    item_count INTEGER,
    root_id TEXT,
    awaited INTEGER NOT NULL DEFAULT 0
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
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
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
    timeout_seconds REAL,
    heartbeat_seconds REAL,
    task_token TEXT,
    started INTEGER NOT NULL DEFAULT 0,
    attempt INTEGER NOT NULL DEFAULT 0,
    checkpoint TEXT,
    created_us INTEGER NOT NULL,
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
    due_us INTEGER NOT NULL,
    PRIMARY KEY (execution_id, timer_id)
);

CREATE TABLE sfn_inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    execution_id TEXT NOT NULL REFERENCES sfn_executions (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_us INTEGER NOT NULL
);

CREATE INDEX sfn_inbox_execution ON sfn_inbox (execution_id);

CREATE TABLE sfn_activities (
    name TEXT PRIMARY KEY,
    arn TEXT NOT NULL UNIQUE,
    created_us INTEGER NOT NULL
);

CREATE TABLE sfn_workers (
    owner TEXT PRIMARY KEY,
    started_us INTEGER NOT NULL,
    heartbeat_us INTEGER NOT NULL
);

CREATE TABLE sfn_idle_listeners (
    channel TEXT PRIMARY KEY,
    since_us INTEGER NOT NULL,
    busy_until_us INTEGER
);

-- config: the Map Run's resolved settings (the task's parameters, JSON), read again by a
-- redrive. Counts of children are read from sfn_executions; results_written is the
-- ResultWriter's.
CREATE TABLE sfn_map_runs (
    arn TEXT PRIMARY KEY,
    execution_id TEXT NOT NULL REFERENCES sfn_executions (id) ON DELETE CASCADE,
    state_name TEXT NOT NULL,
    status TEXT NOT NULL,
    start_us INTEGER NOT NULL,
    stop_us INTEGER,
    max_concurrency INTEGER NOT NULL,
    tolerated_failure_count INTEGER NOT NULL,
    tolerated_failure_percentage REAL NOT NULL,
    total_items INTEGER,
    results_written INTEGER NOT NULL DEFAULT 0,
    redrive_count INTEGER NOT NULL DEFAULT 0,
    redrive_us INTEGER,
    error TEXT,
    cause TEXT,
    config TEXT NOT NULL
);

CREATE INDEX sfn_map_runs_execution ON sfn_map_runs (execution_id, start_us);
