-- The ResultFormat a statement was submitted with (JSON or CSV): which of GetStatementResult
-- and GetStatementResultV2 serves its result pages, after a restart too. A JSON statement's
-- page holds typed Field records; a CSV statement's page holds its CSV text.
ALTER TABLE dataapi_statements ADD COLUMN result_format TEXT NOT NULL DEFAULT 'JSON';
