-- Core schema: organizations, accounts, sessions, OAuth clients, grants and
-- tokens, the audit log and the change feed. Times are unix microseconds (UTC).
CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE memberships (
    org_id     TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    access     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, account_id)
);
CREATE INDEX memberships_account ON memberships(account_id);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_account ON sessions(account_id);

CREATE TABLE clients (
    id                 TEXT PRIMARY KEY,
    owner_account_id   TEXT NOT NULL DEFAULT '',
    name               TEXT NOT NULL,
    secret_hash        TEXT NOT NULL,
    redirect_uris      TEXT NOT NULL,
    scopes             TEXT NOT NULL,
    resource_server    BOOLEAN NOT NULL DEFAULT FALSE,
    first_party        BOOLEAN NOT NULL DEFAULT FALSE,
    refresh_grace_us   INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX clients_owner ON clients(owner_account_id);

CREATE TABLE auth_codes (
    hash           TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL,
    account_id     TEXT NOT NULL,
    org_id         TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    code_challenge TEXT NOT NULL DEFAULT '',
    nonce          TEXT NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    redeemed_at    INTEGER,
    grant_id       TEXT NOT NULL DEFAULT '',
    org_bound      BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX auth_codes_expires ON auth_codes(expires_at);

CREATE TABLE grants (
    id            TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL,
    account_id    TEXT NOT NULL,
    org_id        TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER NOT NULL,
    revoked_at    INTEGER,
    revoke_reason TEXT NOT NULL DEFAULT '',
    org_bound     BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX grants_client_org ON grants(client_id, org_id);
CREATE INDEX grants_org ON grants(org_id);
CREATE INDEX grants_account ON grants(account_id);
CREATE INDEX grants_last_used ON grants(last_used_at);

CREATE TABLE refresh_tokens (
    hash        TEXT PRIMARY KEY,
    grant_id    TEXT NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
    parent_hash TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    rotated_at  INTEGER,
    child_hash  TEXT NOT NULL DEFAULT '',
    revoked_at  INTEGER
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens(grant_id);

CREATE TABLE access_tokens (
    hash         TEXT PRIMARY KEY,
    grant_id     TEXT NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
    refresh_hash TEXT NOT NULL DEFAULT '',
    client_id    TEXT NOT NULL,
    account_id   TEXT NOT NULL,
    org_id       TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER
);
CREATE INDEX access_tokens_grant ON access_tokens(grant_id);
CREATE INDEX access_tokens_refresh ON access_tokens(refresh_hash);
CREATE INDEX access_tokens_expires ON access_tokens(expires_at);

CREATE TABLE audit_events (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    at               INTEGER NOT NULL,
    action           TEXT NOT NULL,
    actor_account_id TEXT NOT NULL DEFAULT '',
    actor_client_id  TEXT NOT NULL DEFAULT '',
    org_id           TEXT NOT NULL DEFAULT '',
    target           TEXT NOT NULL DEFAULT '',
    details          TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_org ON audit_events(org_id, id);
CREATE INDEX audit_events_client ON audit_events(actor_client_id, id);

CREATE TABLE changes (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    key  TEXT NOT NULL,
    at   INTEGER NOT NULL
);
CREATE INDEX changes_at ON changes(at);

-- One-time markers: the first process to insert a key does the work
-- (e.g. the demo data on first start), however many replicas start at once.
CREATE TABLE markers (
    key TEXT PRIMARY KEY,
    at  INTEGER NOT NULL
);
