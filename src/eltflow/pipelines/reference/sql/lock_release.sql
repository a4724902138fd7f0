-- Give the lock back, only if this run still holds it (a Failed row of this run, redriven,
-- is released too); ResultRows 0 means another run took it over after the lease expired.
UPDATE public.etl_job_audit
SET job_state = 'Ready', job_end = :now, lease_until = NULL, job_error = NULL
WHERE job_id = :job_id AND run_arn = :run;
