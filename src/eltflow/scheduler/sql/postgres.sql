-- PostgreSQL: several schedulers share the database; one works on a schedule at a time and the
-- others pass over it this tick instead of waiting.

-- name: lock_schedule
SELECT * FROM sched_schedules WHERE name = :name FOR UPDATE SKIP LOCKED;
