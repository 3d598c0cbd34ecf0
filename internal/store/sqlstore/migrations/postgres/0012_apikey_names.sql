-- API keys get a name their owner chooses and the time of their last use
-- (microseconds, NULL for never; written at most once a minute per key).
ALTER TABLE api_keys ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN last_used_at BIGINT;
