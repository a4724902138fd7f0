-- Scheduler: schedules (EventBridge Scheduler's fields plus catch-up/overlap policies) and the
-- fires decided for them. Times are epoch microseconds (UTC), like the runtime's tables.
-- A fire's key is (schedule, nominal fire time): the primary key plus INSERT ... ON CONFLICT
-- DO NOTHING is what keeps a restarted or a second scheduler from firing twice.

CREATE TABLE sched_schedules (
    name TEXT PRIMARY KEY,
    expression TEXT NOT NULL,
    timezone TEXT NOT NULL,
    state_machine TEXT NOT NULL,
    input TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('ENABLED', 'DISABLED')),
    start_us BIGINT,
    end_us BIGINT,
    flexible_mode TEXT NOT NULL CHECK (flexible_mode IN ('OFF', 'FLEXIBLE')),
    flexible_window_minutes BIGINT,
    catchup TEXT NOT NULL,
    max_catchup BIGINT NOT NULL,
    overlap TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT 'api',
    cursor_us BIGINT,
    created_us BIGINT NOT NULL,
    updated_us BIGINT NOT NULL
);

CREATE TABLE sched_fires (
    schedule_name TEXT NOT NULL,
    fire_us BIGINT NOT NULL,
    due_us BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('PENDING', 'STARTED', 'SKIPPED', 'BUFFERED', 'FAILED')),
    execution_name TEXT NOT NULL,
    execution_arn TEXT,
    reason TEXT NOT NULL DEFAULT '',
    backfill BIGINT NOT NULL DEFAULT 0,
    claimed_by TEXT,
    claimed_us BIGINT,
    recorded_us BIGINT NOT NULL,
    started_us BIGINT,
    PRIMARY KEY (schedule_name, fire_us)
);

CREATE INDEX sched_fires_status ON sched_fires (status, claimed_us);

-- buffer_one keeps at most one waiting fire per schedule, even with several schedulers.
CREATE UNIQUE INDEX sched_fires_one_buffered ON sched_fires (schedule_name) WHERE status = 'BUFFERED';
