-- awaited (issue 16): 1 once a states:startExecution.sync / .sync:2 task has linked itself to
-- this execution (SyncWaitStore.watch sets it, in the transaction that writes the link and
-- holds the row). Only an awaited execution's last step runs wake_sync_parents: the others
-- (nearly all) skip that statement. A step's guard compares it (engine._unchanged), so a step
-- evaluated before the link was written is evaluated again and sees it. Never reset.
ALTER TABLE sfn_executions ADD COLUMN awaited BIGINT NOT NULL DEFAULT 0;
