-- Local SNS: topics, their subscriptions, and a log of every delivery attempt's outcome.
CREATE TABLE IF NOT EXISTS sns_topics (
    name TEXT PRIMARY KEY,
    arn TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sns_subscriptions (
    arn TEXT PRIMARY KEY,
    topic_name TEXT NOT NULL REFERENCES sns_topics (name) ON DELETE CASCADE,
    protocol TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sns_deliveries (
    message_id TEXT NOT NULL,
    subscription_arn TEXT NOT NULL,
    topic_name TEXT NOT NULL,
    protocol TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    error TEXT,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (message_id, subscription_arn)
);
