-- CloudFormation stacks deployed locally: the stack (template as written, parameter values,
-- outputs), its resources with their physical ids, and the exports other stacks import.
-- JSON columns hold text; times are epoch microseconds (UTC), like the runtime's tables.
CREATE TABLE cfn_stacks (
    name TEXT PRIMARY KEY,
    stack_id TEXT NOT NULL,
    status TEXT NOT NULL,
    status_reason TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    template TEXT NOT NULL,
    parameters TEXT NOT NULL,
    outputs TEXT NOT NULL,
    imports TEXT NOT NULL,
    created_us BIGINT NOT NULL,
    updated_us BIGINT
);

CREATE TABLE cfn_stack_resources (
    stack_name TEXT NOT NULL REFERENCES cfn_stacks (name) ON DELETE CASCADE,
    logical_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    resource_type TEXT NOT NULL,
    physical_id TEXT NOT NULL,
    status TEXT NOT NULL,
    status_reason TEXT NOT NULL DEFAULT '',
    properties TEXT NOT NULL,
    attributes TEXT NOT NULL,
    updated_us BIGINT NOT NULL,
    PRIMARY KEY (stack_name, logical_id)
);

-- An export name is unique in a region: the primary key is what enforces it.
CREATE TABLE cfn_exports (
    name TEXT PRIMARY KEY,
    stack_name TEXT NOT NULL REFERENCES cfn_stacks (name) ON DELETE CASCADE,
    value TEXT NOT NULL
);
