-- EventBridge rules with an event pattern (AWS::Events::Rule from a stack): the events they
-- match (a JSON pattern) and the targets they start (JSON list, Input/InputPath/InputTransformer
-- kept as written). Schedule-expression rules are schedules (sched_schedules) instead.

CREATE TABLE sched_event_rules (
    name TEXT PRIMARY KEY,
    event_pattern TEXT NOT NULL,
    targets TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('ENABLED', 'DISABLED')),
    description TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT 'api',
    created_us BIGINT NOT NULL
);
