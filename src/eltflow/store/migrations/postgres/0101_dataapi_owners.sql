-- Data API service instances that are alive: each renews its row while it runs statements, so
-- a starting (or still running) instance can tell a statement orphaned by a dead process from
-- one that another live process is running. expires_us: epoch microseconds (UTC).
CREATE TABLE dataapi_owners (
    owner TEXT PRIMARY KEY,
    expires_us BIGINT NOT NULL
);
