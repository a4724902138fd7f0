-- Data API statements and their result pages. A batch is one parent row (is_batch = 1) plus one
-- row per sub-statement (id "<parent>:<n>", parent_id set). Times are epoch microseconds (UTC),
-- durations nanoseconds, as the Data API reports them. Result records are stored as JSON pages
-- already in the Data API's typed-field shape, so GetStatementResult after a restart is a read.

CREATE TABLE dataapi_statements (
    id TEXT PRIMARY KEY,
    parent_id TEXT,
    seq INTEGER NOT NULL DEFAULT 0,
    is_batch INTEGER NOT NULL DEFAULT 0,
    statement_name TEXT,
    cluster_identifier TEXT,
    workgroup_name TEXT,
    database_name TEXT,
    db_user TEXT,
    secret_arn TEXT,
    query_string TEXT NOT NULL,
    query_parameters TEXT,
    client_token TEXT,
    with_event INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    error TEXT,
    created_us INTEGER NOT NULL,
    updated_us INTEGER NOT NULL,
    duration_ns INTEGER NOT NULL DEFAULT 0,
    has_result_set INTEGER NOT NULL DEFAULT 0,
    result_rows INTEGER NOT NULL DEFAULT -1,
    result_size INTEGER NOT NULL DEFAULT 0,
    redshift_pid INTEGER,
    redshift_query_id INTEGER,
    column_metadata TEXT,
    page_count INTEGER NOT NULL DEFAULT 0,
    owner TEXT NOT NULL DEFAULT ''
);

CREATE UNIQUE INDEX dataapi_statements_token ON dataapi_statements (client_token);
CREATE INDEX dataapi_statements_parent ON dataapi_statements (parent_id, seq);
CREATE INDEX dataapi_statements_created ON dataapi_statements (created_us);
CREATE INDEX dataapi_statements_status ON dataapi_statements (status);

CREATE TABLE dataapi_result_pages (
    statement_id TEXT NOT NULL,
    page INTEGER NOT NULL,
    records TEXT NOT NULL,
    PRIMARY KEY (statement_id, page)
);
