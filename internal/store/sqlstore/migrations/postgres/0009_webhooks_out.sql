-- Integration webhooks: where an integration's events go, and the outbox
-- of those events. Events are inserted in the transaction of the change
-- they report (a grant's revocation, a secret rotation, a deletion), so a
-- crash loses none; deliveries take them from here. client_webhooks has no
-- foreign key on clients: it outlives a deleted client until its
-- client.deleted event is delivered. The secret is sealed by the vault
-- (it signs, so it cannot be only hashed). Times are unix microseconds (UTC).
CREATE TABLE client_webhooks (
    client_id            TEXT PRIMARY KEY,
    url                  TEXT NOT NULL,
    secret_box           TEXT NOT NULL,
    enabled              BOOLEAN NOT NULL DEFAULT TRUE,
    disabled_reason      TEXT NOT NULL DEFAULT '',
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    failing_since        BIGINT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE TABLE client_webhook_events (
    id              TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL REFERENCES client_webhooks(client_id) ON DELETE CASCADE,
    type            TEXT NOT NULL,
    org_id          TEXT NOT NULL DEFAULT '',
    grant_id        TEXT NOT NULL DEFAULT '',
    reason          TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    lease           TEXT NOT NULL DEFAULT '',
    lease_until     BIGINT,
    done_at         BIGINT
);
CREATE INDEX client_webhook_events_client ON client_webhook_events(client_id, created_at);
-- The dispatcher's query: pending events by due time.
CREATE INDEX client_webhook_events_due ON client_webhook_events(next_attempt_at) WHERE state = 'pending';
CREATE TABLE client_webhook_attempts (
    event_id    TEXT NOT NULL REFERENCES client_webhook_events(id) ON DELETE CASCADE,
    n           INTEGER NOT NULL,
    at          BIGINT NOT NULL,
    duration_us BIGINT NOT NULL DEFAULT 0,
    status      INTEGER NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (event_id, n)
);
