-- A worker running one execution and its Distributed Maps' children (claim_execution: id or
-- root_id) must not walk every ended child of a 100,000-item Map Run on each claim: only
-- RUNNING children are indexed by their root.
DROP INDEX sfn_executions_root;

CREATE INDEX sfn_executions_root_running ON sfn_executions (root_id) WHERE status = 'RUNNING';
