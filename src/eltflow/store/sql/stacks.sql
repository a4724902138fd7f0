-- Named queries of the local CloudFormation stacks (eltflow.stacks.records.StackStore and
-- eltflow.stacks.changesets.ChangeSetStore), the same in both dialects (SQLite and PostgreSQL
-- both take ON CONFLICT ... excluded and RETURNING). Tables of the cfn_* migrations: one row per
-- stack, per resource, per export (the export name is the primary key, so two stacks cannot
-- export one name), per event and per change set; JSON columns are text.

-- Stacks ------------------------------------------------------------------------------------

-- name: get_stack
SELECT * FROM cfn_stacks WHERE name = :n;

-- name: list_stacks
SELECT * FROM cfn_stacks ORDER BY name;

-- name: stack_id_of_name
SELECT stack_id FROM cfn_stacks WHERE name = :n;

-- name: upsert_stack
-- created_us is kept from the first write: a stack updated in place keeps its creation time.
INSERT INTO cfn_stacks (name, stack_id, status, status_reason, description, template,
    parameters, outputs, imports, created_us, updated_us)
VALUES (:n, :id, :s, :r, :d, :t, :p, :o, :i, :c, :u)
ON CONFLICT (name) DO UPDATE SET
    stack_id = excluded.stack_id, status = excluded.status,
    status_reason = excluded.status_reason, description = excluded.description,
    template = excluded.template, parameters = excluded.parameters,
    outputs = excluded.outputs, imports = excluded.imports,
    updated_us = excluded.updated_us;

-- name: claim_new_stack
-- Starts creating a stack only if none of that name exists: the check and the write are one
-- statement, so two creates of one stack cannot both start (no row returned: the other won).
INSERT INTO cfn_stacks (name, stack_id, status, status_reason, description, template,
    parameters, outputs, imports, created_us, updated_us)
VALUES (:n, :id, :s, :r, :d, :t, '[]', '[]', '[]', :c, NULL)
ON CONFLICT (name) DO NOTHING RETURNING name;

-- name: claim_stack
-- Starts an operation on a stack only if it is still in the status :expected (one statement).
UPDATE cfn_stacks SET status = :s, status_reason = :r
WHERE name = :n AND status = :expected RETURNING name;

-- name: delete_stack
DELETE FROM cfn_stacks WHERE name = :n;

-- Resources ---------------------------------------------------------------------------------

-- name: stack_resources
SELECT * FROM cfn_stack_resources WHERE stack_name = :n ORDER BY position, logical_id;

-- name: delete_stack_resources
DELETE FROM cfn_stack_resources WHERE stack_name = :n;

-- name: insert_stack_resource
INSERT INTO cfn_stack_resources (stack_name, logical_id, position, resource_type, physical_id,
    status, status_reason, properties, attributes, updated_us)
VALUES (:n, :l, :pos, :t, :p, :s, :r, :props, :a, :u);

-- Exports -----------------------------------------------------------------------------------

-- name: export_owner
SELECT stack_name FROM cfn_exports WHERE name = :e;

-- name: exports_excluding
SELECT name, value FROM cfn_exports WHERE stack_name <> :n;

-- name: delete_stack_exports
DELETE FROM cfn_exports WHERE stack_name = :n;

-- name: insert_export
INSERT INTO cfn_exports (name, stack_name, value) VALUES (:e, :n, :v);

-- Events (kept after the stack is deleted, by stack id) -------------------------------------

-- name: last_event_seq
SELECT COALESCE(MAX(seq), 0) AS n FROM cfn_stack_events WHERE stack_id = :s;

-- name: insert_event
INSERT INTO cfn_stack_events (stack_id, seq, event_id, stack_name, logical_id, physical_id,
    resource_type, status, status_reason, timestamp_us)
VALUES (:s, :seq, :e, :n, :l, :p, :t, :st, :r, :ts);

-- name: stack_events
-- Newest first, as DescribeStackEvents lists them.
SELECT * FROM cfn_stack_events WHERE stack_id = :s ORDER BY seq DESC;

-- name: stack_id_has_events
SELECT stack_id FROM cfn_stack_events WHERE stack_id = :s LIMIT 1;

-- Change sets -------------------------------------------------------------------------------

-- name: change_set_name_taken
SELECT 1 AS x FROM cfn_change_sets WHERE stack_id = :s AND name = :n;

-- name: insert_change_set
INSERT INTO cfn_change_sets (change_set_id, name, stack_name, stack_id, change_set_type,
    status, execution_status, status_reason, description, template, parameters, changes,
    created_us)
VALUES (:id, :n, :sn, :sid, :t, :st, :es, :r, :d, :tpl, :p, :c, :cu);

-- name: change_set_by_id
SELECT * FROM cfn_change_sets WHERE change_set_id = :id;

-- name: change_set_by_name
-- :s is the stack's name or its id.
SELECT * FROM cfn_change_sets WHERE name = :n AND (stack_name = :s OR stack_id = :s);

-- name: change_sets_of_stack
-- :s is the stack's name or its id.
SELECT * FROM cfn_change_sets WHERE stack_name = :s OR stack_id = :s
ORDER BY created_us, name;

-- name: delete_change_set
DELETE FROM cfn_change_sets WHERE change_set_id = :id;

-- name: delete_change_sets_of_stack
-- By name: deleting a stack drops its change sets.
DELETE FROM cfn_change_sets WHERE stack_name = :n;

-- name: delete_change_sets_of_stack_id
-- By id: executing a change set drops its stack's change sets (itself too), as AWS does.
DELETE FROM cfn_change_sets WHERE stack_id = :s;
