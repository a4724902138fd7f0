-- Step Functions activities (CreateActivity): a name and its ARN. Their tasks are rows of
-- sfn_tasks whose resource is the activity's ARN, handed to GetActivityTask pollers.
CREATE TABLE sfn_activities (
    name TEXT PRIMARY KEY,
    arn TEXT NOT NULL UNIQUE,
    created_us BIGINT NOT NULL
);
