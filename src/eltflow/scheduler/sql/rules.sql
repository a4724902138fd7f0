-- Named queries of the EventBridge rules with an event pattern (eltflow.scheduler.rules), the
-- same in both dialects. Table of migration 0301: the pattern and the targets are JSON text.

-- name: delete_rule
DELETE FROM sched_event_rules WHERE name = :n;

-- name: insert_rule
INSERT INTO sched_event_rules (name, event_pattern, targets, state, description, source,
    created_us)
VALUES (:n, :p, :t, :s, :d, :src, :c);

-- name: rule_exists
SELECT 1 AS x FROM sched_event_rules WHERE name = :n;

-- name: any_enabled_rule
-- Whether status events need building at all.
SELECT 1 AS x FROM sched_event_rules WHERE state = 'ENABLED' LIMIT 1;

-- name: enabled_rules
SELECT * FROM sched_event_rules WHERE state = 'ENABLED' ORDER BY name;
