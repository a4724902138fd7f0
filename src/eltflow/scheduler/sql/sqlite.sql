-- SQLite: BEGIN IMMEDIATE already serialises writers, so a plain read is enough.

-- name: lock_schedule
SELECT * FROM sched_schedules WHERE name = :name;
