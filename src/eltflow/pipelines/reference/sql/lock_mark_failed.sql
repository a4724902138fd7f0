-- Record this run's failure on the job's row; the job stays blocked until a reset or redrive.
UPDATE public.etl_job_audit
SET job_state = 'Failed', job_end = :now, job_error = :error
WHERE job_id = :job_id AND run_arn = :run;
