-- The workflow engine: imported workflow versions, their secure values
-- (sealed by the caller), runs, the activities of each run, and the
-- targets imports bring. Times are unix microseconds (UTC); JSON documents
-- are opaque BYTEA, kept byte for byte.
CREATE TABLE workflows (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES automation_tenants(id) ON DELETE CASCADE,
    unique_name TEXT NOT NULL,
    name        TEXT NOT NULL,
    version     BIGINT NOT NULL,
    atomic      BOOLEAN NOT NULL DEFAULT FALSE,
    definition  BYTEA,
    runnable    BOOLEAN NOT NULL DEFAULT FALSE,
    report      BYTEA,
    imported_by TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
-- The version rule: racing imports of one unique_name cannot both take
-- the same number. Also the index for "latest version".
CREATE UNIQUE INDEX workflows_version ON workflows(tenant_id, unique_name, version);

CREATE TABLE workflow_secrets (
    tenant_id   TEXT NOT NULL REFERENCES automation_tenants(id) ON DELETE CASCADE,
    unique_name TEXT NOT NULL,
    variable_id TEXT NOT NULL,
    sealed      BYTEA NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, unique_name, variable_id)
);

CREATE TABLE workflow_runs (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES automation_tenants(id) ON DELETE CASCADE,
    workflow_id      TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    workflow_name    TEXT NOT NULL,
    version          BIGINT NOT NULL,
    status           TEXT NOT NULL,
    started_by       TEXT NOT NULL DEFAULT '',
    schedule_id      TEXT NOT NULL DEFAULT '',
    token_kind       TEXT NOT NULL DEFAULT '',
    token_owner      TEXT NOT NULL DEFAULT '',
    target_id        TEXT NOT NULL DEFAULT '',
    inputs           BYTEA,
    outputs          BYTEA,
    result_message   TEXT NOT NULL DEFAULT '',
    error            TEXT NOT NULL DEFAULT '',
    prompt           BYTEA,
    answer           BYTEA,
    answered_by      TEXT NOT NULL DEFAULT '',
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    owner            TEXT NOT NULL DEFAULT '',
    heartbeat_at     BIGINT,
    attempt          BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    started_at       BIGINT,
    ended_at         BIGINT
);
-- Listing is newest first (created_at DESC, id DESC) within a tenant, a
-- workflow version or a schedule; the janitor looks runs up by status and
-- heartbeat.
CREATE INDEX workflow_runs_tenant ON workflow_runs(tenant_id, created_at DESC, id DESC);
CREATE INDEX workflow_runs_workflow ON workflow_runs(workflow_id, created_at DESC, id DESC);
CREATE INDEX workflow_runs_schedule ON workflow_runs(schedule_id, created_at DESC, id DESC);
CREATE INDEX workflow_runs_heartbeat ON workflow_runs(status, heartbeat_at);

CREATE TABLE workflow_run_activities (
    run_id      TEXT NOT NULL REFERENCES workflow_runs(id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    replay_key  TEXT NOT NULL,
    activity_id TEXT NOT NULL,
    type        TEXT NOT NULL,
    title       TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    ended_at    BIGINT,
    error       TEXT NOT NULL DEFAULT '',
    input       BYTEA,
    output      BYTEA,
    PRIMARY KEY (run_id, seq),
    UNIQUE (run_id, replay_key)
);

-- Imported targets: keyed by the export's target id within the tenant;
-- the Current Org target has none ('').
ALTER TABLE automation_targets ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
ALTER TABLE automation_targets ADD COLUMN properties BYTEA;
CREATE UNIQUE INDEX automation_targets_external ON automation_targets(tenant_id, external_id) WHERE external_id <> '';
