-- Parts of an execution's snapshot, written once instead of in every snapshot (issue 16: a
-- durable Map's snapshot held its input and all of its results, rewritten at every step: 60 MB
-- written for 2,000 items). A part is a large payload (named "p:" and the hash of its text) or
-- one finished Parallel branch / Map iteration's output (named "r:<slot>:<position>", its text
-- '"<index>":<output>'). A snapshot names the parts it uses (ExecutionState.to_stored); a part
-- never changes once written, and stays until its execution is deleted.
CREATE TABLE sfn_snapshot_parts (
    execution_id TEXT NOT NULL REFERENCES sfn_executions (id) ON DELETE CASCADE,
    part TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (execution_id, part)
);
