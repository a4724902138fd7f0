-- Stack events (DescribeStackEvents): every status a stack and its resources went through, by
-- stack id, so they outlive a deleted stack as AWS's do; seq orders them within a stack.
CREATE TABLE cfn_stack_events (
    stack_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    event_id TEXT NOT NULL,
    stack_name TEXT NOT NULL,
    logical_id TEXT NOT NULL,
    physical_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    status TEXT NOT NULL,
    status_reason TEXT NOT NULL DEFAULT '',
    timestamp_us BIGINT NOT NULL,
    PRIMARY KEY (stack_id, seq)
);
