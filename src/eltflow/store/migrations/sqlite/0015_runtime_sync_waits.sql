-- states:startExecution.sync / .sync:2 (issue 16): a parent's task completes from its child's
-- end instead of a thread polling the child. sfn_sync_waits links a child to the task waiting
-- for it: written under the child's row lock while the child runs (so either the link is there
-- when the child ends, whose last step wakes the parent, or the task sees the child ended), and
-- read by the parent's step, which takes the child's outcome from the child's row.
CREATE TABLE sfn_sync_waits (
    parent_id TEXT NOT NULL REFERENCES sfn_executions (id) ON DELETE CASCADE,
    task_id TEXT NOT NULL,
    child_id TEXT NOT NULL REFERENCES sfn_executions (id) ON DELETE CASCADE,
    PRIMARY KEY (parent_id, task_id)
);

CREATE INDEX sfn_sync_waits_child ON sfn_sync_waits (child_id);

-- awaits: the child execution (ARN) a parked .sync task waits for (its TaskSubmitted recorded): the
-- task is no worker's to run until the child ends.
ALTER TABLE sfn_tasks ADD COLUMN awaits TEXT;
