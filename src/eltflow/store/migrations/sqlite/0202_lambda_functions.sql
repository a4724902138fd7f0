-- Local Lambda functions created at run time (by a CloudFormation stack), beside the ones
-- eltflow.toml declares: the handler ("index.handler") is found in code_dir, a folder the
-- creator wrote; environment is a JSON object of variables.
CREATE TABLE lambda_functions (
    name TEXT PRIMARY KEY,
    handler TEXT NOT NULL,
    runtime TEXT NOT NULL,
    code_dir TEXT NOT NULL,
    timeout_seconds BIGINT,
    memory_mb BIGINT NOT NULL,
    environment TEXT NOT NULL,
    created_at TEXT NOT NULL
);
