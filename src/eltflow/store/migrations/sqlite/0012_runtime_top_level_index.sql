-- Issue 16: the Map Run indexes held an entry for every execution, a top-level one's with a
-- NULL map_run_arn, so each StartExecution wrote two index entries nobody reads (Map Run
-- queries all ask for one map_run_arn; a NULL is never equal to one, and two NULLs never
-- conflict in a UNIQUE index) and each status change moved one of them. They now hold
-- Distributed Map children only. ListExecutions, which found the top-level executions as
-- those NULL entries, has an index of its own: one entry per top-level execution, never moved
-- (start_us and map_run_arn do not change). It replaces sfn_executions_machine, which no
-- statement reads (ListExecutions' machine filter is not one an index serves). SQLite 10-Pass
-- chain start: 11.8 -> 9.8 WAL pages written.
DROP INDEX sfn_executions_machine;

DROP INDEX sfn_executions_map_run;

DROP INDEX sfn_executions_map_run_status;

CREATE UNIQUE INDEX sfn_executions_map_run ON sfn_executions (map_run_arn, item_index)
WHERE map_run_arn IS NOT NULL;

CREATE INDEX sfn_executions_map_run_status ON sfn_executions (map_run_arn, status)
WHERE map_run_arn IS NOT NULL;

CREATE INDEX sfn_executions_top ON sfn_executions (start_us) WHERE map_run_arn IS NULL;
