-- Marketbridge schema for PostgreSQL. Keep table and column names identical to
-- migrations/sqlite: the queries in src/ are written once for both engines.
-- Ids are UUIDs, times are Unix milliseconds (BIGINT), secrets are AEAD-sealed BYTEA,
-- JSON is TEXT.

CREATE TABLE workspaces (
    id            UUID   NOT NULL PRIMARY KEY,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE users (
    id                 UUID   NOT NULL PRIMARY KEY,
    workspace_id       UUID   NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email              TEXT   NOT NULL,
    password_hash      TEXT   NOT NULL,
    failed_logins      BIGINT NOT NULL DEFAULT 0,
    first_failed_at_ms BIGINT,
    locked_until_ms    BIGINT,
    created_at_ms      BIGINT NOT NULL,
    updated_at_ms      BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);
CREATE INDEX users_workspace ON users (workspace_id);

-- Browser sessions; the cookie carries a random token, this table only its SHA-256.
CREATE TABLE sessions (
    id            UUID   NOT NULL PRIMARY KEY,
    token_hash    BYTEA  NOT NULL,
    csrf_token    TEXT   NOT NULL,
    user_id       UUID   REFERENCES users (id) ON DELETE CASCADE,
    workspace_id  UUID   REFERENCES workspaces (id) ON DELETE CASCADE,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);
CREATE UNIQUE INDEX sessions_token_hash ON sessions (token_hash);
CREATE INDEX sessions_expires_at ON sessions (expires_at_ms);

CREATE TABLE channels (
    id               UUID   NOT NULL PRIMARY KEY,
    workspace_id     UUID   NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kind             TEXT   NOT NULL,
    name             TEXT   NOT NULL,
    marketplace_code TEXT,
    instance_url     TEXT,
    status           TEXT   NOT NULL,
    store_id         BIGINT,
    store_name       TEXT,
    company          TEXT,
    launched_at_ms   BIGINT,
    last_error       TEXT,
    created_at_ms    BIGINT NOT NULL,
    updated_at_ms    BIGINT NOT NULL,
    -- Target of the (workspace_id, channel_id) foreign keys below, so a row can only point at
    -- a channel of its own workspace.
    CONSTRAINT channels_workspace_id UNIQUE (workspace_id, id)
);

-- OAuth authorizations under way: single use, bound to the browser session that started them.
CREATE TABLE oauth_pending (
    state_hash    BYTEA  NOT NULL PRIMARY KEY,
    session_id    UUID   NOT NULL,
    workspace_id  UUID   NOT NULL,
    channel_id    UUID   NOT NULL,
    pkce_verifier BYTEA  NOT NULL,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    used_at_ms    BIGINT,
    FOREIGN KEY (workspace_id, channel_id) REFERENCES channels (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX oauth_pending_channel ON oauth_pending (workspace_id, channel_id);
CREATE INDEX oauth_pending_expires_at ON oauth_pending (expires_at_ms);

CREATE TABLE channel_tokens (
    channel_id           UUID   NOT NULL PRIMARY KEY,
    workspace_id         UUID   NOT NULL,
    access_token         BYTEA  NOT NULL,
    refresh_token        BYTEA,
    access_expires_at_ms BIGINT NOT NULL,
    scope                TEXT,
    refreshed_at_ms      BIGINT,
    last_refresh_error   TEXT,
    lock_owner           UUID,
    lock_until_ms        BIGINT,
    created_at_ms        BIGINT NOT NULL,
    updated_at_ms        BIGINT NOT NULL,
    FOREIGN KEY (workspace_id, channel_id) REFERENCES channels (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX channel_tokens_access_expires_at ON channel_tokens (access_expires_at_ms);

-- The lease job queue. status: queued | running | done | dead.
CREATE TABLE jobs (
    id             UUID    NOT NULL PRIMARY KEY,
    workspace_id   UUID    REFERENCES workspaces (id) ON DELETE CASCADE,
    flow           TEXT    NOT NULL,
    payload        TEXT    NOT NULL,
    dedupe_key     TEXT,
    status         TEXT    NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    max_attempts   INTEGER NOT NULL,
    run_at_ms      BIGINT  NOT NULL,
    lease_owner    UUID,
    lease_until_ms BIGINT,
    last_error     TEXT,
    created_at_ms  BIGINT  NOT NULL,
    updated_at_ms  BIGINT  NOT NULL
);
-- One live job per dedupe key; finished jobs keep their key without blocking a new one.
CREATE UNIQUE INDEX jobs_live_dedupe_key ON jobs (dedupe_key) WHERE status IN ('queued', 'running');
CREATE INDEX jobs_due ON jobs (status, run_at_ms);
CREATE INDEX jobs_running_flow ON jobs (workspace_id, flow) WHERE status = 'running';
