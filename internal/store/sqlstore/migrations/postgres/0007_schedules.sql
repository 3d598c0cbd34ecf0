-- Schedules: when a workflow runs by itself, on the tenant's Org-scoped
-- token. next_due_at is the one due time a firer may take next; a firing
-- row per due time (or missed span) with the primary key (schedule_id,
-- due_at) makes a second run of one due time impossible, however many
-- processes fire at once. Times are unix microseconds (UTC).
CREATE TABLE workflow_schedules (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES automation_tenants(id) ON DELETE CASCADE,
    workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    unique_name TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    spec        BYTEA NOT NULL,
    inputs      BYTEA,
    misfire     TEXT NOT NULL,
    max_runs    BIGINT NOT NULL DEFAULT 0,
    runs        BIGINT NOT NULL DEFAULT 0,
    enabled     BOOLEAN NOT NULL DEFAULT FALSE,
    state       TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    next_due_at BIGINT,
    created_by  TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL DEFAULT '',
    external_id TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX workflow_schedules_tenant ON workflow_schedules(tenant_id, created_at, id);
-- The firer's query: enabled schedules by due time.
CREATE INDEX workflow_schedules_due ON workflow_schedules(next_due_at) WHERE enabled AND next_due_at IS NOT NULL;

CREATE TABLE workflow_schedule_firings (
    schedule_id TEXT NOT NULL REFERENCES workflow_schedules(id) ON DELETE CASCADE,
    due_at      BIGINT NOT NULL,
    fired_at    BIGINT NOT NULL,
    outcome     TEXT NOT NULL,
    missed      BIGINT NOT NULL DEFAULT 1,
    run_id      TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT '',
    queued      BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (schedule_id, due_at)
);
CREATE INDEX workflow_schedule_firings_unqueued ON workflow_schedule_firings(fired_at) WHERE NOT queued AND run_id <> '';
