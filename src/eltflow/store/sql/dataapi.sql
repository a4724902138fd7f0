-- Named queries of the local Redshift Data API (eltflow.dataapi.repository), the same in both
-- dialects. Tables of migrations 0100-0104: a statement row per statement (a batch is one parent
-- row, is_batch = 1, plus a row per sub-statement with parent_id set), its result pages, and
-- the heartbeats of the live service instances. Times are epoch microseconds (UTC).

-- name: insert_statement
INSERT INTO dataapi_statements (id, parent_id, seq, is_batch, statement_name,
    cluster_identifier, workgroup_name, database_name, db_user, secret_arn, query_string,
    query_parameters, client_token, with_event, status, error, created_us, updated_us,
    duration_ns, has_result_set, result_rows, result_size, redshift_pid, redshift_query_id,
    column_metadata, page_count, owner, execution_arn, state_name, server_xact, result_format, session_id)
VALUES (:id, :parent_id, :seq, :is_batch, :statement_name,
    :cluster_identifier, :workgroup_name, :database_name, :db_user, :secret_arn, :query_string,
    :query_parameters, :client_token, :with_event, :status, :error, :created_us, :updated_us,
    :duration_ns, :has_result_set, :result_rows, :result_size, :redshift_pid, :redshift_query_id,
    :column_metadata, :page_count, :owner, :execution_arn, :state_name, :server_xact, :result_format, :session_id);

-- name: update_statement
-- A statement's progress and outcome; what it was asked to run never changes.
UPDATE dataapi_statements
SET status = :status, error = :error, updated_us = :updated_us, duration_ns = :duration_ns,
    has_result_set = :has_result_set, result_rows = :result_rows, result_size = :result_size,
    redshift_pid = :redshift_pid, server_xact = :server_xact,
    redshift_query_id = :redshift_query_id, column_metadata = :column_metadata,
    page_count = :page_count
WHERE id = :id;

-- name: insert_result_page
INSERT INTO dataapi_result_pages (statement_id, page, records)
VALUES (:statement_id, :page, :records);

-- name: get_statement
SELECT id, parent_id, seq, is_batch, statement_name, cluster_identifier, workgroup_name,
    database_name, db_user, secret_arn, query_string, query_parameters, client_token,
    with_event, status, error, created_us, updated_us, duration_ns, has_result_set,
    result_rows, result_size, redshift_pid, redshift_query_id, column_metadata, page_count,
    owner, execution_arn, state_name, server_xact, result_format, session_id
FROM dataapi_statements WHERE id = :id;

-- name: statement_by_token
-- The statement a ClientToken already submitted (idempotent ExecuteStatement).
SELECT id, parent_id, seq, is_batch, statement_name, cluster_identifier, workgroup_name,
    database_name, db_user, secret_arn, query_string, query_parameters, client_token,
    with_event, status, error, created_us, updated_us, duration_ns, has_result_set,
    result_rows, result_size, redshift_pid, redshift_query_id, column_metadata, page_count,
    owner, execution_arn, state_name, server_xact, result_format, session_id
FROM dataapi_statements WHERE client_token = :t;

-- name: child_statements
-- A batch's sub-statements, in the order they run.
SELECT id, parent_id, seq, is_batch, statement_name, cluster_identifier, workgroup_name,
    database_name, db_user, secret_arn, query_string, query_parameters, client_token,
    with_event, status, error, created_us, updated_us, duration_ns, has_result_set,
    result_rows, result_size, redshift_pid, redshift_query_id, column_metadata, page_count,
    owner, execution_arn, state_name, server_xact, result_format, session_id
FROM dataapi_statements WHERE parent_id = :p ORDER BY seq;

-- name: result_page
SELECT records FROM dataapi_result_pages WHERE statement_id = :id AND page = :p;

-- name: list_statements
-- ListStatements: top-level statements, newest first, keyset paging on (created_us, id) from
-- before :bus / :bid (the first page passes the largest created_us). A NULL filter is no
-- filter (CAST: PostgreSQL cannot tell the type of a parameter only tested for NULL); :name is
-- a LIKE prefix pattern whose % and _ the caller escaped with \.
SELECT id, parent_id, seq, is_batch, statement_name, cluster_identifier, workgroup_name,
    database_name, db_user, secret_arn, query_string, query_parameters, client_token,
    with_event, status, error, created_us, updated_us, duration_ns, has_result_set,
    result_rows, result_size, redshift_pid, redshift_query_id, column_metadata, page_count,
    owner, execution_arn, state_name, server_xact, result_format, session_id
FROM dataapi_statements
WHERE parent_id IS NULL
  AND created_us <= :bus AND (created_us < :bus OR id < :bid)
  AND (CAST(:status AS TEXT) IS NULL OR status = :status)
  AND (CAST(:name AS TEXT) IS NULL OR statement_name LIKE :name ESCAPE '\')
  AND (CAST(:cluster_identifier AS TEXT) IS NULL OR cluster_identifier = :cluster_identifier)
  AND (CAST(:workgroup_name AS TEXT) IS NULL OR workgroup_name = :workgroup_name)
  AND (CAST(:database_name AS TEXT) IS NULL OR database_name = :database_name)
ORDER BY created_us DESC, id DESC
LIMIT :limit;

-- name: list_execution_statements
-- list_statements for the statements one execution's tasks submitted (the console's SQL tab):
-- its own query so that the execution_arn filter is an equality the index of migration 0103,
-- (execution_arn, created_us), serves newest first.
SELECT id, parent_id, seq, is_batch, statement_name, cluster_identifier, workgroup_name,
    database_name, db_user, secret_arn, query_string, query_parameters, client_token,
    with_event, status, error, created_us, updated_us, duration_ns, has_result_set,
    result_rows, result_size, redshift_pid, redshift_query_id, column_metadata, page_count,
    owner, execution_arn, state_name, server_xact, result_format, session_id
FROM dataapi_statements
WHERE parent_id IS NULL AND execution_arn = :execution_arn
  AND created_us <= :bus AND (created_us < :bus OR id < :bid)
  AND (CAST(:status AS TEXT) IS NULL OR status = :status)
  AND (CAST(:name AS TEXT) IS NULL OR statement_name LIKE :name ESCAPE '\')
  AND (CAST(:cluster_identifier AS TEXT) IS NULL OR cluster_identifier = :cluster_identifier)
  AND (CAST(:workgroup_name AS TEXT) IS NULL OR workgroup_name = :workgroup_name)
  AND (CAST(:database_name AS TEXT) IS NULL OR database_name = :database_name)
ORDER BY created_us DESC, id DESC
LIMIT :limit;

-- name: count_active
-- Statements still to finish: the statuses of eltflow.dataapi.model.ACTIVE (a test keeps the
-- two lists equal).
SELECT COUNT(*) AS n FROM dataapi_statements
WHERE parent_id IS NULL AND status IN ('SUBMITTED', 'PICKED', 'STARTED');

-- name: heartbeat_owner
-- ``owner`` is alive until :e.
INSERT INTO dataapi_owners (owner, expires_us) VALUES (:o, :e)
ON CONFLICT (owner) DO UPDATE SET expires_us = excluded.expires_us;

-- name: retire_owner
DELETE FROM dataapi_owners WHERE owner = :o;

-- name: orphaned_statements
-- Top-level active statements (model.ACTIVE) of owners other than :me with no unexpired
-- heartbeat: their process died, and each is settled from its warehouse (dataapi.liveness).
SELECT id, parent_id, seq, is_batch, statement_name, cluster_identifier, workgroup_name,
    database_name, db_user, secret_arn, query_string, query_parameters, client_token,
    with_event, status, error, created_us, updated_us, duration_ns, has_result_set,
    result_rows, result_size, redshift_pid, redshift_query_id, column_metadata, page_count,
    owner, execution_arn, state_name, server_xact, result_format, session_id
FROM dataapi_statements
WHERE parent_id IS NULL AND status IN ('SUBMITTED', 'PICKED', 'STARTED') AND owner <> :me
  AND owner NOT IN (SELECT owner FROM dataapi_owners WHERE expires_us >= :now);

-- name: settle_orphaned_statement
-- A dead process's statement's outcome, only while still active (model.ACTIVE): one that
-- finished or was settled meanwhile keeps its outcome.
UPDATE dataapi_statements SET status = :status, error = :error, updated_us = :now
WHERE id = :id AND status IN ('SUBMITTED', 'PICKED', 'STARTED')
RETURNING id;

-- name: adopt_orphaned_statement
-- A live instance (:me) takes over a dead owner's (:old) statement, known not to have
-- committed, to run it again: the parent and its batch's rows, back to SUBMITTED. Only while
-- still active and still :old's, so of two instances noticing the same orphan one adopts it.
UPDATE dataapi_statements
SET owner = :me, status = 'SUBMITTED', error = NULL, updated_us = :now,
    redshift_pid = NULL, server_xact = NULL
WHERE (id = :id OR parent_id = :id) AND owner = :old
  AND status IN ('SUBMITTED', 'PICKED', 'STARTED')
RETURNING id;

-- name: forget_dead_owners
DELETE FROM dataapi_owners WHERE expires_us < :now;
