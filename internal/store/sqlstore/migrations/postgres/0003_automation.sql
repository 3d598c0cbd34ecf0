-- Automation: tenants (one per organization), explicit roles, targets,
-- Automation's tokens (sealed by the vault), pending authorization requests,
-- Automation's own client registration and the vault's wrapped data keys.
-- Times are unix microseconds (UTC).
CREATE TABLE automation_tenants (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL UNIQUE REFERENCES organizations(id) ON DELETE CASCADE,
    meraki     BOOLEAN NOT NULL DEFAULT FALSE,
    created_by TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

CREATE TABLE automation_roles (
    tenant_id  TEXT NOT NULL REFERENCES automation_tenants(id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, account_id)
);

-- UNIQUE (tenant_id, name) is what makes the Meraki - Current Org target's
-- creation idempotent: racing triggers insert, the losers re-read.
CREATE TABLE automation_targets (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES automation_tenants(id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    type             TEXT NOT NULL,
    protocol         TEXT NOT NULL,
    host             TEXT NOT NULL,
    port             BIGINT NOT NULL,
    base_path        TEXT NOT NULL,
    proxy_url        TEXT NOT NULL DEFAULT '',
    metadata_version TEXT NOT NULL,
    created_trigger  TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    synced_at        BIGINT NOT NULL,
    UNIQUE (tenant_id, name)
);

-- owner_key is the account for user tokens and '' for the org token, so
-- that a tenant has one org token and one user token per account.
CREATE TABLE automation_tokens (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES automation_tenants(id) ON DELETE CASCADE,
    org_id            TEXT NOT NULL,
    kind              TEXT NOT NULL,
    owner_key         TEXT NOT NULL,
    account_id        TEXT NOT NULL,
    issuer            TEXT NOT NULL,
    client_id         TEXT NOT NULL,
    scopes            TEXT NOT NULL,
    refresh_sealed    TEXT NOT NULL DEFAULT '',
    refresh_hash      TEXT NOT NULL DEFAULT '',
    access_sealed     TEXT NOT NULL DEFAULT '',
    access_scopes     TEXT NOT NULL DEFAULT '',
    access_expires_at BIGINT,
    state             TEXT NOT NULL,
    reason            TEXT NOT NULL DEFAULT '',
    created_at        BIGINT NOT NULL,
    refreshed_at      BIGINT NOT NULL,
    last_used_at      BIGINT,
    inflight_hash     TEXT NOT NULL DEFAULT '',
    inflight_attempts BIGINT NOT NULL DEFAULT 0,
    inflight_at       BIGINT,
    lease_holder      TEXT NOT NULL DEFAULT '',
    lease_until       BIGINT,
    UNIQUE (tenant_id, kind, owner_key)
);
CREATE INDEX automation_tokens_refreshed ON automation_tokens(refreshed_at);

CREATE TABLE automation_states (
    hash            TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL,
    tenant_id       TEXT NOT NULL,
    org_id          TEXT NOT NULL,
    kind            TEXT NOT NULL,
    issuer          TEXT NOT NULL,
    verifier_sealed TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX automation_states_expires ON automation_states(expires_at);

CREATE TABLE automation_clients (
    name          TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    redirect_uri  TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE automation_keys (
    id         TEXT PRIMARY KEY,
    master_id  TEXT NOT NULL,
    wrapped    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
