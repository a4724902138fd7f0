-- The warehouse-lock variant keeps its audit lock in the warehouse (no item table).
-- Times are the context object's ISO-8601 UTC strings (fixed width, millisecond precision,
-- trailing Z), so they order as text; the Data API binds every parameter as a string anyway.
CREATE TABLE IF NOT EXISTS public.etl_job_audit (
    job_id      VARCHAR(64) NOT NULL,
    job_state   VARCHAR(16) NOT NULL,
    job_start   VARCHAR(40),
    job_end     VARCHAR(40),
    lease_until VARCHAR(40),
    run_arn     VARCHAR(256),
    job_error   VARCHAR(1000),
    PRIMARY KEY (job_id)
) DISTSTYLE ALL;

-- The job's row, Ready, unless it exists (re-running setup leaves a live lock alone).
-- The casts give the twice-used parameter one type (PostgreSQL deduces one per use).
INSERT INTO public.etl_job_audit (job_id, job_state)
SELECT CAST(:job_id AS VARCHAR(64)), 'Ready'
WHERE NOT EXISTS (
    SELECT 1 FROM public.etl_job_audit WHERE job_id = CAST(:job_id AS VARCHAR(64))
);
