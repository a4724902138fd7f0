-- Scheduler queries shared by both dialects (sqlite.sql / postgres.sql add the few that differ).
-- Parameters are :named and always bound.

-- name: insert_schedule
INSERT INTO sched_schedules (
    name, expression, timezone, state_machine, input, state, start_us, end_us, flexible_mode,
    flexible_window_minutes, catchup, max_catchup, overlap, description, source, cursor_us,
    created_us, updated_us
) VALUES (
    :name, :expression, :timezone, :state_machine, :input, :state, :start_us, :end_us,
    :flexible_mode, :flexible_window_minutes, :catchup, :max_catchup, :overlap, :description,
    :source, :cursor_us, :created_us, :updated_us
) ON CONFLICT (name) DO NOTHING RETURNING name;

-- name: update_schedule
-- cursor_us only moves forward: an update never re-opens fires that were already handled.
UPDATE sched_schedules SET
    expression = :expression, timezone = :timezone, state_machine = :state_machine,
    input = :input, state = :state, start_us = :start_us, end_us = :end_us,
    flexible_mode = :flexible_mode, flexible_window_minutes = :flexible_window_minutes,
    catchup = :catchup, max_catchup = :max_catchup, overlap = :overlap,
    description = :description, source = :source, updated_us = :updated_us,
    cursor_us = CASE WHEN CAST(:cursor_us AS BIGINT) IS NULL THEN cursor_us
                     WHEN cursor_us IS NULL OR cursor_us < CAST(:cursor_us AS BIGINT)
                     THEN CAST(:cursor_us AS BIGINT)
                     ELSE cursor_us END
WHERE name = :name RETURNING name;

-- name: get_schedule
SELECT * FROM sched_schedules WHERE name = :name;

-- name: list_schedules
SELECT * FROM sched_schedules ORDER BY name;

-- name: list_enabled
SELECT * FROM sched_schedules WHERE state = 'ENABLED' ORDER BY name;

-- name: delete_schedule
DELETE FROM sched_schedules WHERE name = :name RETURNING name;

-- name: delete_fires
DELETE FROM sched_fires WHERE schedule_name = :name;

-- name: advance_cursor
UPDATE sched_schedules SET cursor_us = :cursor_us
WHERE name = :name AND (cursor_us IS NULL OR cursor_us < :cursor_us);

-- name: insert_fire
-- The no-double-fire guarantee: whoever inserts the row owns the fire; everyone else no-ops.
INSERT INTO sched_fires (
    schedule_name, fire_us, due_us, status, execution_name, backfill, claimed_by, claimed_us,
    recorded_us
) VALUES (
    :schedule_name, :fire_us, :due_us, 'PENDING', :execution_name, :backfill, :claimed_by,
    :now_us, :now_us
) ON CONFLICT (schedule_name, fire_us) DO NOTHING RETURNING fire_us;

-- name: reclaim_stale
-- Take over a PENDING fire whose claimer stopped before finishing it (claimed before :stale_us).
-- Starting it again is safe: the execution name is deterministic, so a start that did happen
-- is a no-op. The WHERE re-checks under the row lock, so only one scheduler wins.
UPDATE sched_fires SET claimed_by = :claimed_by, claimed_us = :now_us
WHERE schedule_name = :schedule_name AND fire_us = :fire_us
  AND status = 'PENDING' AND claimed_us < :stale_us
RETURNING fire_us;

-- name: reclaim_for_backfill
-- A backfill re-runs a fire the overlap policy skipped or the target rejected.
UPDATE sched_fires SET status = 'PENDING', claimed_by = :claimed_by, claimed_us = :now_us,
    reason = '', backfill = 1
WHERE schedule_name = :schedule_name AND fire_us = :fire_us AND status IN ('SKIPPED', 'FAILED')
RETURNING fire_us;

-- name: stale_pending
SELECT schedule_name, fire_us FROM sched_fires
WHERE status = 'PENDING' AND claimed_us < :stale_us ORDER BY fire_us;

-- name: release_buffered
UPDATE sched_fires SET status = 'PENDING', claimed_by = :claimed_by, claimed_us = :now_us
WHERE schedule_name = :schedule_name AND fire_us = :fire_us AND status = 'BUFFERED'
RETURNING fire_us;

-- name: buffered_fires
SELECT schedule_name, fire_us FROM sched_fires WHERE status = 'BUFFERED' ORDER BY fire_us;

-- name: finish_fire
UPDATE sched_fires SET status = :status, execution_arn = :execution_arn, reason = :reason,
    started_us = :started_us
WHERE schedule_name = :schedule_name AND fire_us = :fire_us AND status = 'PENDING'
  AND claimed_by = :claimed_by
RETURNING fire_us;

-- name: buffer_fire
UPDATE sched_fires SET status = 'BUFFERED', reason = :reason
WHERE schedule_name = :schedule_name AND fire_us = :fire_us AND status = 'PENDING'
  AND claimed_by = :claimed_by
RETURNING fire_us;

-- name: previous_started
SELECT * FROM sched_fires
WHERE schedule_name = :schedule_name AND status = 'STARTED' AND fire_us < :fire_us
ORDER BY fire_us DESC LIMIT 1;

-- name: get_fire
SELECT * FROM sched_fires WHERE schedule_name = :schedule_name AND fire_us = :fire_us;

-- name: list_fires
SELECT * FROM sched_fires WHERE schedule_name = :schedule_name
ORDER BY fire_us DESC LIMIT :limit;
