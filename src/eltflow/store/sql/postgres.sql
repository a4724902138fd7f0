-- The runtime store's PostgreSQL-only texts: the queries whose SQL differs between dialects
-- (the rest are in common.sql).

-- name: lock_execution
-- The row lock serialises everyone who changes this execution (worker, stop, redrive).
-- NO KEY UPDATE, the lock an UPDATE of the row takes: it does not hold up a foreign-key check
-- on the row (KEY SHARE), such as SyncWaitStore.watch's insert into sfn_sync_waits naming
-- the parent, which with FOR UPDATE deadlocked against a grouped step that locked the parent,
-- then the child watch had updated (issue 16).
SELECT * FROM sfn_executions WHERE id = :id FOR NO KEY UPDATE;

-- name: guard_execution
-- lock_execution for a step's guard: the same row lock, reading only the columns it compares.
SELECT status, snapshot, event_count, lease_owner, awaited FROM sfn_executions WHERE id = :id FOR NO KEY UPDATE;

-- name: claim_executions
-- Runnable = RUNNING with work due now and no live lease. SKIP LOCKED lets several workers
-- claim concurrently, each getting different rows, without waiting on each other.
UPDATE sfn_executions
SET lease_owner = :owner, lease_expires_us = :expires_us
WHERE id IN (
    SELECT id FROM sfn_executions
    WHERE status = 'RUNNING' AND wake_us <= :now_us
      AND (lease_expires_us IS NULL OR lease_expires_us < :now_us)
    ORDER BY wake_us
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
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
    FOR UPDATE SKIP LOCKED
)
RETURNING id;

-- name: commit_without_flush
-- This transaction's COMMIT returns before its WAL reaches disk (a crash may lose it; it
-- never leaves it half done). Only for writes that may be lost: a claim's lease.
SET LOCAL synchronous_commit TO OFF;

-- name: listener_idle
-- A PostgreSQL worker about to wait on its LISTEN channel: unless some execution is runnable
-- now (as claim_executions finds them), it puts its channel among the idle ones a start may
-- notify (see notify_work). Both in one statement, so one snapshot: a start that committed
-- before it is seen as runnable; one that commits after it either saw this row or notified
-- eltflow_work, which the worker hears (it drained what came before, see wait_for_work).
-- Also when some execution next has work (next_wake), which bounds the wait. A row that is
-- an idle one already keeps its since_us (see wait_for_work). Not :claimant (a worker for
-- one execution, ``eltflow start --wait``): no row, so no start's wake-up goes to it.
-- While another worker's busy row stands, busy longer than this one's if that is a busy
-- one too (the worker the starts go to, see sfn_notify_work), what is runnable now is left
-- to it: the starts were announced to it, and it claims them, in one batch, or at its poll
-- what came due; neither counts, as runnable or as the next wake-up (issue 16: workers that
-- ran out of work took the starts a busy one was about to claim, so each of 4 workers ran a
-- few at a time, 0.2 claims and 0.84 transactions per execution against 0.04 and 0.15 on
-- one worker). The worker the starts go to takes them itself when it runs out of work, even
-- if others are busy. A backlog more than it takes at once wakes an idle one (notify_idle).
WITH now_server AS (
    SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT AS us
), busy AS (
    SELECT 1 FROM sfn_idle_listeners o, now_server n
    WHERE o.channel <> :channel AND o.busy_until_us > n.us
      AND NOT EXISTS (
          SELECT 1 FROM sfn_idle_listeners m
          WHERE m.channel = :channel AND m.busy_until_us > n.us AND m.since_us <= o.since_us)
    LIMIT 1
), runnable AS (
    SELECT 1 FROM sfn_executions
    WHERE status = 'RUNNING' AND wake_us <= :now_us
      AND (lease_expires_us IS NULL OR lease_expires_us < :now_us)
      AND NOT EXISTS (SELECT 1 FROM busy)
    LIMIT 1
), idle AS (
    INSERT INTO sfn_idle_listeners (channel, since_us, busy_until_us)
    SELECT :channel, :since_us, NULL
    WHERE CAST(:claimant AS BOOLEAN) AND NOT EXISTS (SELECT 1 FROM runnable)
    ON CONFLICT (channel) DO UPDATE
    SET since_us = CASE
            WHEN sfn_idle_listeners.busy_until_us IS NULL THEN sfn_idle_listeners.since_us
            ELSE excluded.since_us END,
        busy_until_us = NULL
    RETURNING channel
), due AS (
    -- next_wake's, so the wait ends when it comes due without a read of its own first
    SELECT COALESCE(
        CASE WHEN lease_expires_us IS NULL THEN wake_us
             WHEN wake_us IS NULL THEN lease_expires_us
             WHEN wake_us > lease_expires_us THEN wake_us
             ELSE lease_expires_us END,
        lease_expires_us) AS due_us
    FROM sfn_executions
    WHERE status = 'RUNNING' AND (wake_us IS NOT NULL OR lease_expires_us IS NOT NULL)
)
SELECT EXISTS (SELECT 1 FROM runnable) AS runnable, (
    SELECT MIN(due_us) FROM due
    WHERE due_us > :now_us OR NOT EXISTS (SELECT 1 FROM busy)
) AS due_us;

-- name: notify_work
-- Wakes one worker (issue 16: one NOTIFY woke every worker to race for one claim; then each
-- start woke another idle worker, which ran its one execution alone, without group commit):
-- which one, sfn_notify_work decides (migration 0014: a busy worker with room ahead of idle
-- ones). Delivered on COMMIT.
SELECT sfn_notify_work() AS notified;

-- name: insert_started_execution_alone
-- insert_started_execution, the first step's tasks and timers (insert_task, insert_timer, from
-- parallel arrays), its history row (insert_history_step) and, if :notify, notify_work's
-- sfn_notify_work, in one statement run outside any transaction: the server commits it by
-- itself, so a start costs one round trip (no BEGIN, no COMMIT). The rest is written,
-- and a worker woken, only if the execution's row was (same checks, same RETURNING). Starts of
-- concurrent callers are this statement several times in one transaction instead (group
-- commit, see RuntimeStore.insert_started_execution): their pg_notify calls are sent at
-- COMMIT, one per channel.
WITH started AS (
    INSERT INTO sfn_executions (id, arn, machine_name, version_id, name, status, input, output,
        error, cause, start_us, stop_us, snapshot, event_count, wake_us)
    SELECT :id, :arn, m.name, m.current_version_id, :name, :status, :input, :output, :error,
        :cause, :start_us, :stop_us, :snapshot, :event_count, :wake_us
    FROM sfn_machines m
    WHERE m.name = :machine_name AND m.current_version_id = :version_id
      AND m.current_version_id = :machine_version_id AND m.arn = :machine_arn
      AND m.role_arn = :role_arn AND m.machine_type = :machine_type
      AND m.created_us = :created_us AND m.updated_us = :updated_us
    ON CONFLICT (arn) DO NOTHING
    RETURNING id
), tasks AS (
    INSERT INTO sfn_tasks (execution_id, task_id, state_name, resource, parameters,
        timeout_seconds, heartbeat_seconds, task_token, created_us)
    SELECT s.id, t.task_id, t.state_name, t.resource, t.parameters, t.timeout_seconds,
        t.heartbeat_seconds, t.task_token, :start_us
    FROM started s CROSS JOIN unnest(CAST(:task_ids AS TEXT[]), CAST(:task_states AS TEXT[]),
        CAST(:task_resources AS TEXT[]), CAST(:task_parameters AS TEXT[]),
        CAST(:task_timeouts AS DOUBLE PRECISION[]), CAST(:task_heartbeats AS DOUBLE PRECISION[]),
        CAST(:task_tokens AS TEXT[]))
        AS t (task_id, state_name, resource, parameters, timeout_seconds, heartbeat_seconds,
            task_token)
    ON CONFLICT (execution_id, task_id) DO NOTHING
), timers AS (
    INSERT INTO sfn_timers (execution_id, timer_id, due_us)
    SELECT s.id, t.timer_id, t.due_us
    FROM started s CROSS JOIN unnest(CAST(:timer_ids AS TEXT[]), CAST(:timer_dues AS BIGINT[]))
        AS t (timer_id, due_us)
    ON CONFLICT (execution_id, timer_id) DO NOTHING
), history AS (
    INSERT INTO sfn_history_steps (execution_id, first_seq, last_seq, events)
    SELECT id, :first_seq, :last_seq, :events FROM started
)
SELECT s.id, CASE WHEN CAST(:notify AS BOOLEAN) THEN sfn_notify_work() END AS notified
FROM started s;

-- name: notify_idle
-- A claim came back full, so there may be more work than its claimant takes at once: wake one
-- idle listener to share it (as notify_work would with no busy worker), none if none is idle.
WITH candidate AS (
    SELECT channel FROM sfn_idle_listeners
    WHERE busy_until_us IS NULL
    ORDER BY since_us DESC
    LIMIT 1
    FOR UPDATE SKIP LOCKED
), woken AS (
    UPDATE sfn_idle_listeners
    SET busy_until_us = (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT + 1000000
    WHERE channel = (SELECT channel FROM candidate)
    RETURNING channel
)
SELECT pg_notify(channel, '') AS notified FROM woken;

-- name: listener_claiming
-- A worker about to claim, which will then be busy with room for more: a start notifies it
-- ahead of the idle listeners (see notify_work) for the next :busy_us on the server's clock.
-- since_us: since when it is busy, kept while its row stays a busy one.
INSERT INTO sfn_idle_listeners (channel, since_us, busy_until_us)
VALUES (
    :channel, :since_us, (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT + :busy_us)
ON CONFLICT (channel) DO UPDATE
SET since_us = CASE
        WHEN sfn_idle_listeners.busy_until_us
             > (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT
        THEN sfn_idle_listeners.since_us
        ELSE excluded.since_us END,
    busy_until_us = excluded.busy_until_us;

-- name: wake_sync_parents
-- The child :child_id ended (in this transaction): the parents waiting for it have work now,
-- and the workers hear of it on COMMIT (eltflow_work, which every listener hears; only when a
-- parent was woken). Nothing is read back: sent with the step's other writes.
WITH woken AS (
    UPDATE sfn_executions SET wake_us = :now_us
    WHERE status = 'RUNNING' AND (wake_us IS NULL OR wake_us > :now_us)
      AND id IN (SELECT parent_id FROM sfn_sync_waits WHERE child_id = :child_id)
    RETURNING id
)
SELECT pg_notify('eltflow_work', '') AS notified FROM (SELECT 1 FROM woken LIMIT 1) AS any_woken;
