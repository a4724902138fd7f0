-- The Data API session a statement ran in (SessionId), shown by DescribeStatement and
-- ListStatements; NULL for a statement outside a session. The session itself (a held warehouse
-- connection) lives in the process that opened it (dataapi/sessions.py).
ALTER TABLE dataapi_statements ADD COLUMN session_id TEXT;
