-- The runtime store's SQLite-only texts: the queries whose SQL differs between dialects
-- (the rest are in common.sql).

-- name: lock_execution
-- BEGIN IMMEDIATE already holds the database's write lock, so a plain read is enough here.
SELECT * FROM sfn_executions WHERE id = :id;

-- name: guard_execution
-- lock_execution for a step's guard, reading only the columns it compares.
SELECT status, snapshot, event_count, lease_owner, awaited FROM sfn_executions WHERE id = :id;

-- name: claim_executions
-- Runnable = RUNNING with work due now and no live lease. BEGIN IMMEDIATE serialises
-- claimers on SQLite, so no two workers can take the same row.
UPDATE sfn_executions
SET lease_owner = :owner, lease_expires_us = :expires_us
WHERE id IN (
    SELECT id FROM sfn_executions
    WHERE status = 'RUNNING' AND wake_us <= :now_us
      AND (lease_expires_us IS NULL OR lease_expires_us < :now_us)
    ORDER BY wake_us
    LIMIT :limit
)
RETURNING id;

-- name: claim_execution
-- The same as claim_executions, for one execution (``eltflow start --wait`` runs only its own)
-- and the child executions of its Distributed Maps (root_id).
UPDATE sfn_executions
SET lease_owner = :owner, lease_expires_us = :expires_us
WHERE id IN (
    SELECT id FROM sfn_executions
    WHERE (id = :id OR root_id = :id) AND status = 'RUNNING' AND wake_us <= :now_us
      AND (lease_expires_us IS NULL OR lease_expires_us < :now_us)
    ORDER BY wake_us
    LIMIT :limit
)
RETURNING id;

-- name: commit_without_flush
-- Not run: in WAL mode with synchronous=NORMAL a SQLite COMMIT waits for no fsync anyway.
SELECT 0 AS unused;

-- name: notify_work
-- Wakes idle workers (LISTEN eltflow_work); delivered when the transaction commits.
-- SQLite has no notifications: idle workers poll (a cheap read on WAL).
SELECT 0 AS notified;

-- name: notify_idle
-- Not run: SQLite has no LISTEN (its workers wait on an in-process condition, see _Wakeup).
SELECT 0 AS unused;

-- name: listener_claiming
-- Not run: SQLite has no LISTEN (its workers wait on an in-process condition, see _Wakeup).
SELECT 0 AS unused;

-- name: listener_idle
-- Not run: SQLite has no LISTEN (its workers wait on an in-process condition, see _Wakeup).
SELECT 0 AS runnable, NULL AS due_us;

-- name: insert_started_execution_alone
-- Not run: SQLite has no INSERT in WITH; a start's row, tasks and history are statements of
-- one transaction there (RuntimeStore.insert_started_execution).
SELECT NULL AS id WHERE 0;

-- name: wake_sync_parents
-- The child :child_id ended (in this transaction): the parents waiting for it have work now.
-- The ids tell RuntimeStore to wake this process's workers once the transaction commits.
UPDATE sfn_executions SET wake_us = :now_us
WHERE status = 'RUNNING' AND (wake_us IS NULL OR wake_us > :now_us)
  AND id IN (SELECT parent_id FROM sfn_sync_waits WHERE child_id = :child_id)
RETURNING id;
