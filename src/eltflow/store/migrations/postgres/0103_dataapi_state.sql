-- The state whose task submitted a statement (with 0102's execution_arn: an execution's SQL per
-- state in the console), and the index that lists one execution's statements newest first.
ALTER TABLE dataapi_statements ADD COLUMN state_name TEXT;
CREATE INDEX dataapi_statements_execution ON dataapi_statements (execution_arn, created_us);
