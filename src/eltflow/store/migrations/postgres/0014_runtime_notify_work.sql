-- Which worker a start's wake-up goes to (issue 16), written once for the statements that
-- notify (notify_work, insert_started_execution_alone), which call it. A busy worker with
-- room for more, if any (the one busy the longest, so that new work gathers on one worker,
-- in batches, instead of keeping several each busy with a little): its row stays; it claims
-- what comes with the steps it records next (Worker._wait_busy). Else the most recently idle
-- listener, whose row becomes a busy one for a second (its worker renews it when it claims),
-- so that the starts right after go to the worker now claiming, not each to another idle
-- one; a busy row that lapsed is deleted instead (its worker may be gone). With none,
-- notifies eltflow_work, which every worker listens on (a worker that went idle after this
-- row was taken still hears that). Delivered on COMMIT. Busy rows lapse on the server's
-- clock: workers on other machines may disagree.
-- PL/pgSQL, not a SQL function: PostgreSQL before 18 plans a SQL function's body again in
-- every statement that calls it (+180 us of server CPU per start, measured); PL/pgSQL keeps
-- its plans for the session. Steps instead of notify_work's former one statement of four
-- CTEs: a start that finds a busy worker reads one row and runs no UPDATE or DELETE plan
-- (callgrind, the start statement in a single-user backend: 1.065M -> 0.985M instructions
-- per start with a busy worker, 1.258M -> 1.215M with an idle one, 1.099M -> 1.035M with
-- none).
CREATE FUNCTION sfn_notify_work() RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    now_us BIGINT := (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT;
    picked TEXT;
    picked_until BIGINT;
BEGIN
    SELECT channel INTO picked FROM sfn_idle_listeners
    WHERE busy_until_us > now_us
    ORDER BY since_us
    LIMIT 1;
    IF picked IS NULL THEN
        SELECT channel, busy_until_us INTO picked, picked_until FROM sfn_idle_listeners
        WHERE busy_until_us IS NULL OR busy_until_us <= now_us
        ORDER BY since_us DESC
        LIMIT 1
        FOR UPDATE SKIP LOCKED;
        IF picked_until IS NOT NULL THEN
            DELETE FROM sfn_idle_listeners WHERE channel = picked;
        ELSIF picked IS NOT NULL THEN
            UPDATE sfn_idle_listeners SET busy_until_us = now_us + 1000000
            WHERE channel = picked;
        END IF;
    END IF;
    PERFORM pg_notify(COALESCE(picked, 'eltflow_work'), '');
END
$$;
