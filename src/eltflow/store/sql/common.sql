-- Named queries of the runtime store shared by both dialects. A query whose SQL differs is
-- not here but in both sqlite.sql and postgres.sql, under one name (a test checks both
-- dialects have the same names). Values are bound with :name placeholders, never pasted in.

-- name: insert_version
INSERT INTO sfn_versions (machine_name, version, definition, description, created_us)
VALUES (:machine_name, :version, :definition, :description, :created_us)
RETURNING id;

-- name: get_version
SELECT id, machine_name, version, definition, description, created_us, retired_us
FROM sfn_versions WHERE id = :id;

-- name: insert_machine
INSERT INTO sfn_machines (name, arn, current_version_id, role_arn, machine_type, created_us,
    updated_us)
VALUES (:name, :arn, :current_version_id, :role_arn, :machine_type, :created_us, :updated_us);

-- name: update_machine
UPDATE sfn_machines
SET current_version_id = :current_version_id, role_arn = :role_arn, updated_us = :updated_us
WHERE name = :name;

-- name: get_machine
SELECT name, arn, current_version_id, role_arn, machine_type, created_us, updated_us
FROM sfn_machines WHERE name = :name;

-- name: list_machines
SELECT name, arn, current_version_id, role_arn, machine_type, created_us, updated_us
FROM sfn_machines WHERE name > :after ORDER BY name LIMIT :limit;

-- name: delete_machine
DELETE FROM sfn_machines WHERE name = :name;

-- name: delete_unused_versions
-- Versions still referenced by executions stay (retired): their history must remain
-- describable.
DELETE FROM sfn_versions
WHERE machine_name = :name
  AND NOT EXISTS (SELECT 1 FROM sfn_executions e WHERE e.version_id = sfn_versions.id);

-- name: retire_versions
UPDATE sfn_versions SET retired_us = :now_us
WHERE machine_name = :name AND retired_us IS NULL;

-- name: list_versions
SELECT id, machine_name, version, definition, description, created_us, retired_us
FROM sfn_versions
WHERE machine_name = :name AND retired_us IS NULL AND version < :before_version
ORDER BY version DESC LIMIT :limit;

-- name: insert_execution
INSERT INTO sfn_executions (id, arn, machine_name, version_id, name, status, input, start_us,
    wake_us)
VALUES (:id, :arn, :machine_name, :version_id, :name, :status, :input, :start_us, :wake_us);

-- name: insert_started_execution
-- StartExecution's row, already projected from its first step, inserted only if the machine
-- is still the row the step was decided with (every column: an update, or a delete and a
-- create, changes some) and no execution has the ARN. No row returned: one of the two was
-- not so, and the caller reads which (a machine changed meanwhile is decided again; an
-- existing execution is AWS's idempotent start or ExecutionAlreadyExists).
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
RETURNING id;

-- name: get_execution
SELECT * FROM sfn_executions WHERE id = :id;

-- name: get_execution_by_arn
SELECT * FROM sfn_executions WHERE arn = :arn;

-- name: update_execution
UPDATE sfn_executions
SET status = :status, output = :output, error = :error, cause = :cause, stop_us = :stop_us,
    snapshot = :snapshot, event_count = :event_count, wake_us = :wake_us
WHERE id = :id;

-- name: set_redriven
UPDATE sfn_executions
SET redrive_count = redrive_count + 1, redrive_us = :redrive_us
WHERE id = :id;

-- name: list_executions
-- A Distributed Map's children are listed by their Map Run (list_map_run_executions) only.
SELECT id, arn, machine_name, version_id, name, status, start_us, stop_us, redrive_count,
    redrive_us
FROM sfn_executions
WHERE map_run_arn IS NULL
  AND (CAST(:machine_name AS TEXT) IS NULL OR machine_name = :machine_name)
  AND (CAST(:status AS TEXT) IS NULL OR status = :status)
ORDER BY start_us DESC, id DESC
LIMIT :limit OFFSET :offset;

-- name: renew_lease
UPDATE sfn_executions SET lease_expires_us = :expires_us
WHERE id = :id AND lease_owner = :owner
RETURNING id;

-- name: release_lease
UPDATE sfn_executions SET lease_owner = NULL, lease_expires_us = NULL, wake_us = :wake_us
WHERE id = :id AND lease_owner = :owner;

-- name: wake_execution
UPDATE sfn_executions SET wake_us = :wake_us WHERE id = :id AND status = 'RUNNING';

-- name: next_wake
-- The earliest time some RUNNING execution that nobody (alive) holds has work.
SELECT MIN(COALESCE(
    CASE WHEN lease_expires_us IS NULL THEN wake_us
         WHEN wake_us IS NULL THEN lease_expires_us
         WHEN wake_us > lease_expires_us THEN wake_us
         ELSE lease_expires_us END,
    lease_expires_us)) AS due_us
FROM sfn_executions
WHERE status = 'RUNNING' AND (wake_us IS NOT NULL OR lease_expires_us IS NOT NULL);

-- name: count_by_status
SELECT status, COUNT(*) AS n FROM sfn_executions GROUP BY status;

-- name: insert_history_step
-- One append's events (see migrations/*/0011_runtime_history_steps.sql). Strict: a step
-- numbered from the same snapshot twice fails on (execution_id, first_seq).
INSERT INTO sfn_history_steps (execution_id, first_seq, last_seq, events)
VALUES (:execution_id, :first_seq, :last_seq, :events);

-- name: list_history
-- The rows holding events after :after_seq up to :until_seq, plus the first row past
-- :until_seq (where a later page, or a gap in the ids, goes on). Rows never overlap: of the
-- rows starting at or before :after_seq only the last can hold a later event.
SELECT first_seq, last_seq, events FROM (
    SELECT first_seq, last_seq, events FROM sfn_history_steps
    WHERE execution_id = :execution_id AND first_seq <= :after_seq
    ORDER BY first_seq DESC LIMIT 1
) AS straddling
WHERE last_seq > :after_seq
UNION ALL
SELECT first_seq, last_seq, events FROM sfn_history_steps
WHERE execution_id = :execution_id AND first_seq > :after_seq AND first_seq <= :until_seq
UNION ALL
SELECT first_seq, last_seq, events FROM (
    SELECT first_seq, last_seq, events FROM sfn_history_steps
    WHERE execution_id = :execution_id AND first_seq > :until_seq
    ORDER BY first_seq LIMIT 1
) AS newer;

-- name: list_history_reverse
-- The rows starting in [:from_seq, :before_seq), plus the last row starting before
-- :from_seq (it may hold events from :from_seq on; an earlier page goes on from it).
SELECT first_seq, last_seq, events FROM sfn_history_steps
WHERE execution_id = :execution_id AND first_seq >= :from_seq AND first_seq < :before_seq
UNION ALL
SELECT first_seq, last_seq, events FROM (
    SELECT first_seq, last_seq, events FROM sfn_history_steps
    WHERE execution_id = :execution_id AND first_seq < :from_seq
    ORDER BY first_seq DESC LIMIT 1
) AS older;

-- name: insert_task
INSERT INTO sfn_tasks (execution_id, task_id, state_name, resource, parameters,
    timeout_seconds, heartbeat_seconds, task_token, created_us)
VALUES (:execution_id, :task_id, :state_name, :resource, :parameters, :timeout_seconds,
    :heartbeat_seconds, :task_token, :created_us)
ON CONFLICT (execution_id, task_id) DO NOTHING;

-- name: delete_task
DELETE FROM sfn_tasks WHERE execution_id = :execution_id AND task_id = :task_id
RETURNING task_id;

-- name: delete_tasks
DELETE FROM sfn_tasks WHERE execution_id = :execution_id;

-- name: list_tasks
SELECT * FROM sfn_tasks WHERE execution_id = :execution_id ORDER BY created_us, task_id;

-- name: dispatch_task
UPDATE sfn_tasks SET started = 1, attempt = attempt + 1
WHERE execution_id = :execution_id AND task_id = :task_id;

-- name: set_task_checkpoint
UPDATE sfn_tasks SET checkpoint = :checkpoint
WHERE execution_id = :execution_id AND task_id = :task_id;

-- name: insert_timer
INSERT INTO sfn_timers (execution_id, timer_id, due_us)
VALUES (:execution_id, :timer_id, :due_us)
ON CONFLICT (execution_id, timer_id) DO NOTHING;

-- name: delete_timer
DELETE FROM sfn_timers WHERE execution_id = :execution_id AND timer_id = :timer_id
RETURNING timer_id;

-- name: insert_snapshot_part
-- Idempotent: equal payloads are one part (named by their text's hash).
INSERT INTO sfn_snapshot_parts (execution_id, part, body) VALUES (:execution_id, :part, :body)
ON CONFLICT (execution_id, part) DO NOTHING;

-- name: snapshot_parts
SELECT part, body FROM sfn_snapshot_parts WHERE execution_id = :execution_id;

-- name: delete_timers
DELETE FROM sfn_timers WHERE execution_id = :execution_id;

-- name: due_timers
SELECT timer_id, due_us FROM sfn_timers
WHERE execution_id = :execution_id AND due_us <= :now_us
ORDER BY due_us, timer_id;

-- name: next_timer
SELECT MIN(due_us) AS due_us FROM sfn_timers WHERE execution_id = :execution_id;

-- name: insert_inbox
INSERT INTO sfn_inbox (execution_id, kind, payload, created_us)
VALUES (:execution_id, :kind, :payload, :created_us);

-- name: list_inbox
SELECT id, kind, payload FROM sfn_inbox WHERE execution_id = :execution_id ORDER BY id;

-- name: inbox_for_owner
SELECT DISTINCT i.execution_id FROM sfn_inbox i
JOIN sfn_executions e ON e.id = i.execution_id
WHERE e.lease_owner = :owner;

-- name: delete_inbox
DELETE FROM sfn_inbox WHERE id = :id;

-- name: worker_heartbeat
INSERT INTO sfn_workers (owner, started_us, heartbeat_us) VALUES (:owner, :now_us, :now_us)
ON CONFLICT (owner) DO UPDATE SET heartbeat_us = excluded.heartbeat_us;

-- name: worker_gone
DELETE FROM sfn_workers WHERE owner = :owner;

-- name: live_workers
SELECT owner, started_us, heartbeat_us FROM sfn_workers WHERE heartbeat_us >= :since_us
ORDER BY owner;

-- Distributed Map: Map Runs and their child executions (store/map_runs.py).

-- name: insert_map_run
INSERT INTO sfn_map_runs (arn, execution_id, state_name, status, start_us, max_concurrency,
    tolerated_failure_count, tolerated_failure_percentage, config)
VALUES (:arn, :execution_id, :state_name, 'RUNNING', :start_us, :max_concurrency,
    :tolerated_failure_count, :tolerated_failure_percentage, :config)
ON CONFLICT (arn) DO NOTHING;

-- name: get_map_run
SELECT * FROM sfn_map_runs WHERE arn = :arn;

-- name: list_map_runs
SELECT * FROM sfn_map_runs WHERE execution_id = :execution_id
ORDER BY start_us DESC, arn DESC LIMIT :limit OFFSET :offset;

-- name: finish_map_run
UPDATE sfn_map_runs
SET status = :status, stop_us = :stop_us, error = :error, cause = :cause,
    total_items = :total_items, results_written = :results_written
WHERE arn = :arn;

-- name: update_map_run
-- UpdateMapRun: a NULL keeps the setting as it is.
UPDATE sfn_map_runs
SET max_concurrency = COALESCE(:max_concurrency, max_concurrency),
    tolerated_failure_count = COALESCE(:tolerated_failure_count, tolerated_failure_count),
    tolerated_failure_percentage = COALESCE(:tolerated_failure_percentage,
        tolerated_failure_percentage)
WHERE arn = :arn;

-- name: set_map_run_total
UPDATE sfn_map_runs SET total_items = :total_items WHERE arn = :arn;

-- name: redrive_map_run
UPDATE sfn_map_runs
SET status = 'RUNNING', stop_us = NULL, error = NULL, cause = NULL,
    redrive_count = redrive_count + 1, redrive_us = :redrive_us
WHERE arn = :arn;

-- name: insert_child_execution
-- A Map Run's child, already projected from its first step (as insert_started_execution):
-- one statement, no UPDATE after it.
INSERT INTO sfn_executions (id, arn, machine_name, version_id, name, status, input, output,
    error, cause, start_us, stop_us, snapshot, event_count, wake_us, map_run_arn, item_index,
    item_count, root_id)
VALUES (:id, :arn, :machine_name, :version_id, :name, :status, :input, :output, :error,
    :cause, :start_us, :stop_us, :snapshot, :event_count, :wake_us, :map_run_arn, :item_index,
    :item_count, :root_id);

-- name: execution_link
SELECT id, map_run_arn, item_index, item_count, root_id FROM sfn_executions WHERE id = :id;

-- name: map_run_counts
SELECT status, COUNT(*) AS n, SUM(item_count) AS items
FROM sfn_executions WHERE map_run_arn = :arn GROUP BY status;

-- name: map_run_next_timer
-- The earliest timer of the Map Run's RUNNING children (a virtual clock moves on to it).
SELECT MIN(t.due_us) AS due_us
FROM sfn_executions e JOIN sfn_timers t ON t.execution_id = e.id
WHERE e.map_run_arn = :arn AND e.status = 'RUNNING';

-- name: map_run_last_index
SELECT MAX(item_index) AS last FROM sfn_executions WHERE map_run_arn = :arn;

-- name: map_run_children
-- In item order after :after_index; only those of :status when it is given.
SELECT id, arn, machine_name, name, status, input, output, error, cause, start_us, stop_us,
    redrive_count, item_index, item_count
FROM sfn_executions
WHERE map_run_arn = :arn AND item_index > :after_index
  AND (CAST(:status AS TEXT) IS NULL OR status = :status)
ORDER BY item_index LIMIT :limit;

-- name: list_map_run_executions
SELECT id, arn, machine_name, version_id, name, status, start_us, stop_us, redrive_count,
    redrive_us, item_count
FROM sfn_executions
WHERE map_run_arn = :arn AND (CAST(:status AS TEXT) IS NULL OR status = :status)
ORDER BY start_us DESC, id DESC
LIMIT :limit OFFSET :offset;

-- name: listener_busy
DELETE FROM sfn_idle_listeners WHERE channel = :channel;

-- states:startExecution.sync / .sync:2: a parent's task waiting for its child
-- (store/sync_waits.py, migrations/*/0015_runtime_sync_waits.sql).

-- name: await_sync_child
-- The child, if RUNNING, is marked awaited (its last step wakes its parents), and its row is
-- held to the end of the transaction that links it: its steps (whose guard locks the row and
-- compares awaited) wait until the link is committed and are evaluated again if they read it
-- before, or the link waits until the child's last step is, and then finds it ended (no row).
UPDATE sfn_executions SET awaited = 1 WHERE arn = :arn AND status = 'RUNNING' RETURNING id;

-- name: insert_sync_wait
INSERT INTO sfn_sync_waits (parent_id, task_id, child_id)
VALUES (:parent_id, :task_id, :child_id)
ON CONFLICT (parent_id, task_id) DO UPDATE SET child_id = excluded.child_id;

-- name: ended_sync_children
-- The children of the parent's waiting tasks that have ended, with their task.
SELECT w.task_id AS awaiting_task, c.*
FROM sfn_sync_waits w JOIN sfn_executions c ON c.id = w.child_id
WHERE w.parent_id = :parent_id AND c.status <> 'RUNNING';

-- name: park_task
UPDATE sfn_tasks SET awaits = :child_arn
WHERE execution_id = :execution_id AND task_id = :task_id;

-- name: delete_sync_wait
DELETE FROM sfn_sync_waits WHERE parent_id = :parent_id AND task_id = :task_id;

-- name: wake_if_children_ended
-- A parent whose step let it go (wake_us from its own work) while a child it waits for ended:
-- that child's wake-up may have come before the step's write and been overwritten by it.
UPDATE sfn_executions SET wake_us = :now_us
WHERE id = :parent_id AND status = 'RUNNING' AND (wake_us IS NULL OR wake_us > :now_us)
  AND EXISTS (
    SELECT 1 FROM sfn_sync_waits w
    JOIN sfn_executions c ON c.id = w.child_id
    JOIN sfn_tasks t ON t.execution_id = w.parent_id AND t.task_id = w.task_id
    WHERE w.parent_id = :parent_id AND c.status <> 'RUNNING' AND t.awaits IS NOT NULL);
