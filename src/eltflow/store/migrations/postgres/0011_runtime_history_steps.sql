-- History: one row per append (a step's events) instead of one per event (issue 16: a durable
-- 10-Pass execution wrote 22 rows: about a third of its CPU on SQLite). A row holds
-- events first_seq..last_seq, in order, as one JSON array of
-- [seq, previous_seq, event_type, timestamp_us, details]; rows of an execution never overlap.
-- Recorded events move over as one-event rows; details is already JSON text, event_type a
-- bare name (AWS's event types are letters only), so the array is written by concatenation.
CREATE TABLE sfn_history_steps (
    execution_id TEXT NOT NULL REFERENCES sfn_executions (id) ON DELETE CASCADE,
    first_seq BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    events TEXT NOT NULL,
    PRIMARY KEY (execution_id, first_seq)
);

INSERT INTO sfn_history_steps (execution_id, first_seq, last_seq, events)
SELECT execution_id, seq, seq,
    '[[' || seq || ',' || previous_seq || ',"' || event_type || '",' || timestamp_us || ','
    || details || ']]'
FROM sfn_history;

DROP TABLE sfn_history;
