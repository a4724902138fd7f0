"""Local SNS: topics and subscriptions in the state store, delivered to files/logs, HTTP(S)
webhooks (JSON POST with bounded exponential-backoff retries) and email over SMTP; every
delivery is recorded in ``sns_deliveries``."""
