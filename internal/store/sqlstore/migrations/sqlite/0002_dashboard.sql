-- Dashboard API sandbox: networks, devices, generic resources, API usage
-- counters and API keys. Times are unix microseconds (UTC). Lists that
-- filters search (product types, tags) are stored space-separated with a
-- leading and trailing space, so "has tag t" is LIKE '% t %'.
CREATE TABLE networks (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    product_types     TEXT NOT NULL,
    time_zone         TEXT NOT NULL,
    tags              TEXT NOT NULL,
    notes             TEXT NOT NULL DEFAULT '',
    enrollment_string TEXT NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    UNIQUE (org_id, name)
);
CREATE INDEX networks_org ON networks(org_id, id);

CREATE TABLE devices (
    serial           TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    network_id       TEXT NOT NULL DEFAULT '',
    name             TEXT NOT NULL DEFAULT '',
    model            TEXT NOT NULL,
    mac              TEXT NOT NULL,
    product_type     TEXT NOT NULL,
    address          TEXT NOT NULL DEFAULT '',
    lat              REAL NOT NULL DEFAULT 0,
    lng              REAL NOT NULL DEFAULT 0,
    notes            TEXT NOT NULL DEFAULT '',
    tags             TEXT NOT NULL DEFAULT ' ',
    lan_ip           TEXT NOT NULL DEFAULT '',
    public_ip        TEXT NOT NULL DEFAULT '',
    firmware         TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL DEFAULT '',
    last_reported_at INTEGER,
    claimed_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX devices_org ON devices(org_id, serial);
CREATE INDEX devices_network ON devices(network_id, serial);

CREATE TABLE dashboard_resources (
    org_id     TEXT NOT NULL,
    path       TEXT NOT NULL,
    parent     TEXT NOT NULL DEFAULT '',
    body       TEXT NOT NULL,
    deleted    BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, path)
);
CREATE INDEX dashboard_resources_parent ON dashboard_resources(org_id, parent, path);

CREATE TABLE api_usage (
    org_id       TEXT NOT NULL,
    minute       INTEGER NOT NULL,
    client_id    TEXT NOT NULL,
    account_id   TEXT NOT NULL,
    operation_id TEXT NOT NULL,
    method       TEXT NOT NULL,
    status       INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    path         TEXT NOT NULL DEFAULT '',
    query        TEXT NOT NULL DEFAULT '',
    host         TEXT NOT NULL DEFAULT '',
    source_ip    TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '',
    last_at      INTEGER NOT NULL,
    PRIMARY KEY (org_id, minute, client_id, account_id, operation_id, method, status)
);
CREATE INDEX api_usage_minute ON api_usage(minute);

-- slot (1..max) makes "at most max keys per account" a uniqueness rule, so
-- it holds under concurrent creation on either backend.
CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    slot       INTEGER NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    last4      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (account_id, slot)
);
