-- The execution whose task submitted a statement (eltflow's own column: the console links a
-- statement to its execution; AWS's Data API has no such field). NULL for statements submitted
-- outside an execution (eltflow sql, boto3 against the endpoint).
ALTER TABLE dataapi_statements ADD COLUMN execution_arn TEXT;
