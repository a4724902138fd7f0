-- Versions of a deleted state machine that executions still reference are kept but retired,
-- so a new machine with the same name lists only its own versions.
ALTER TABLE sfn_versions ADD COLUMN retired_us INTEGER;
