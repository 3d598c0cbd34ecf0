-- The runner asks for the runs it owns in a status (its heartbeat and
-- cancel checks, every few seconds): index them by owner.
CREATE INDEX workflow_runs_owner ON workflow_runs(owner, status);
