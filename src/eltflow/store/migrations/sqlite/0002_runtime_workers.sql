-- Live workers announce themselves here (heartbeat) so that `eltflow start` can tell whether
-- anything will pick up a new execution, and operators can see who holds which leases.
CREATE TABLE sfn_workers (
    owner TEXT PRIMARY KEY,
    started_us INTEGER NOT NULL,
    heartbeat_us INTEGER NOT NULL
);
