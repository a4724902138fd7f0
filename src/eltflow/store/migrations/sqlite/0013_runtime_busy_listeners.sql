-- A busy PostgreSQL worker with room for more executions is among the listeners a start may
-- notify, ahead of the idle ones (issue 16: each start woke another idle worker, which ran its
-- one execution alone, with no group commit; 4 workers fell to half of 1 worker's rate).
-- busy_until_us: until when, on the server's clock, the row stands for a busy worker (each of
-- its claims renews it, so a dead worker's row lapses); NULL: an idle listener.
ALTER TABLE sfn_idle_listeners ADD COLUMN busy_until_us INTEGER;
