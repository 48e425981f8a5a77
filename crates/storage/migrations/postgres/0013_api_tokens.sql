-- Per-workspace tokens for the JSON API (`/api/v1`). Only the SHA-256 of a token is kept (a
-- token is 32 random bytes, so a fast hash is enough), with its first characters to tell
-- tokens apart on the Account page. A revoked token stays listed, and opens nothing.
CREATE TABLE api_tokens (
    id              UUID   NOT NULL PRIMARY KEY,
    workspace_id    UUID   NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    token_hash      BYTEA  NOT NULL,
    display_prefix  TEXT   NOT NULL,
    name            TEXT   NOT NULL,
    scope           TEXT   NOT NULL,
    created_at_ms   BIGINT NOT NULL,
    last_used_at_ms BIGINT,
    revoked_at_ms   BIGINT
);
CREATE UNIQUE INDEX api_tokens_token_hash ON api_tokens (token_hash);
CREATE INDEX api_tokens_workspace ON api_tokens (workspace_id, created_at_ms);
