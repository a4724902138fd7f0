-- Named queries of the Lambda functions recorded in the state store (eltflow.lambdas.functions),
-- the same in both dialects. Table of migration 0202: one row per function a CloudFormation
-- stack created; environment is a JSON object of variables.

-- name: get_function
SELECT * FROM lambda_functions WHERE name = :n;

-- name: list_functions
SELECT * FROM lambda_functions ORDER BY name;

-- name: function_exists
SELECT 1 AS x FROM lambda_functions WHERE name = :n;

-- name: delete_function
DELETE FROM lambda_functions WHERE name = :n;

-- name: insert_function
INSERT INTO lambda_functions (name, handler, runtime, code_dir, timeout_seconds, memory_mb,
    environment, created_at)
VALUES (:n, :h, :r, :c, :t, :m, :e, :at);
