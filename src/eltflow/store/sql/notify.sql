-- Named queries of the local SNS topics (eltflow.notify.topics), the same in both dialects.
-- Tables of migration 0201: topics, their subscriptions, and one row per (message,
-- subscription) delivery with its outcome. Times are ISO 8601 text.

-- name: topic_exists
SELECT name FROM sns_topics WHERE name = :n;

-- name: insert_topic
-- CreateTopic is idempotent: a topic created concurrently is kept as it is.
INSERT INTO sns_topics (name, arn, created_at) VALUES (:n, :a, :t)
ON CONFLICT (name) DO NOTHING;

-- name: delete_topic_subscriptions
DELETE FROM sns_subscriptions WHERE topic_name = :n;

-- name: delete_topic
DELETE FROM sns_topics WHERE name = :n;

-- name: delete_subscription
DELETE FROM sns_subscriptions WHERE arn = :a;

-- name: find_subscription
-- The subscription of this endpoint to this topic, if any: subscribing again returns it.
SELECT arn FROM sns_subscriptions WHERE topic_name = :n AND protocol = :p AND endpoint = :e;

-- name: insert_subscription
INSERT INTO sns_subscriptions (arn, topic_name, protocol, endpoint, created_at)
VALUES (:a, :n, :p, :e, :t);

-- name: list_topics
SELECT arn FROM sns_topics ORDER BY name;

-- name: topic_subscriptions
SELECT arn, topic_name, protocol, endpoint FROM sns_subscriptions
WHERE topic_name = :n ORDER BY created_at, arn;

-- name: insert_delivery
-- Recorded before the delivery is tried, so a crash leaves a visible pending row.
INSERT INTO sns_deliveries (message_id, subscription_arn, topic_name, protocol, endpoint,
    status, attempts, error, body, created_at)
VALUES (:m, :s, :n, :p, :e, 'pending', 0, NULL, :b, :t);

-- name: delivery_failed
UPDATE sns_deliveries SET status = 'failed', attempts = :a, error = :err
WHERE message_id = :m AND subscription_arn = :s;

-- name: delivery_delivered
UPDATE sns_deliveries SET status = 'delivered', attempts = :a
WHERE message_id = :m AND subscription_arn = :s;

-- name: all_deliveries
SELECT * FROM sns_deliveries ORDER BY created_at, subscription_arn;

-- name: message_deliveries
SELECT * FROM sns_deliveries WHERE message_id = :m ORDER BY created_at, subscription_arn;

-- name: recent_messages
-- The newest :n messages that had deliveries, newest first.
SELECT message_id, MAX(created_at) AS at FROM sns_deliveries
GROUP BY message_id ORDER BY at DESC, message_id LIMIT :n;
