-- Webhooks: inbound endpoints that start workflows through automation
-- rules (FORMAT.md §8.2). The secret is kept as its SHA-256 (bearer
-- secrets) and sealed by the vault (HMAC signatures), never in the clear.
-- rules is a JSON array owned by the workflow package. Times are unix
-- microseconds (UTC).
CREATE TABLE workflow_webhooks (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES automation_tenants(id) ON DELETE CASCADE,
    external_id  TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    content_type TEXT NOT NULL DEFAULT '',
    rules        BYTEA NOT NULL,
    secret_hash  BYTEA,
    secret_box   TEXT NOT NULL DEFAULT '',
    secret_at    BIGINT,
    enabled      BOOLEAN NOT NULL DEFAULT FALSE,
    reason       TEXT NOT NULL DEFAULT '',
    created_by   TEXT NOT NULL DEFAULT '',
    source       TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (tenant_id, external_id)
);
CREATE INDEX workflow_webhooks_tenant ON workflow_webhooks(tenant_id, created_at, id);
