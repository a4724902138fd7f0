-- Take the job's lock: one statement, so of two runs that both find it Ready exactly one
-- updates the row (ResultRows 1); an expired lease may be taken over. A lock this run already
-- holds matches too: the UPDATE re-run after a crash between its commit and its recording
-- must find the lock its own, not skip and leave the job Running for the whole lease.
UPDATE public.etl_job_audit
SET job_state = 'Running', job_start = :now, lease_until = :lease, run_arn = :run,
    job_end = NULL, job_error = NULL
WHERE job_id = :job_id
  AND (job_state = 'Ready'
       OR (job_state = 'Running' AND (lease_until < :now OR run_arn = :run)));
