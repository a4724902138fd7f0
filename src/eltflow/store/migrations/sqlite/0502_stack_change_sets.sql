-- Change sets (CreateChangeSet / DescribeChangeSet / ExecuteChangeSet): a template and its
-- parameter values held for review with the resource changes they would make, by stack id
-- (a CREATE change set's stack waits in REVIEW_IN_PROGRESS). Executing one, or deleting the
-- stack, deletes the stack's change sets, as in AWS. JSON columns hold text; times are epoch
-- microseconds (UTC).
CREATE TABLE cfn_change_sets (
    change_set_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    stack_name TEXT NOT NULL,
    stack_id TEXT NOT NULL,
    change_set_type TEXT NOT NULL,
    status TEXT NOT NULL,
    execution_status TEXT NOT NULL,
    status_reason TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    template TEXT NOT NULL,
    parameters TEXT NOT NULL,
    changes TEXT NOT NULL,
    created_us BIGINT NOT NULL,
    UNIQUE (stack_id, name)
);
