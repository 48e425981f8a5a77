-- Disconnect (F6): the state of a disconnect under way, so a restart resumes it, and the
-- receipt that survives the wipe of the workspace's data. Keep table and column names
-- identical to migrations/postgres.

-- One disconnect per workspace at a time. channel_id NULL = the whole workspace. It has no
-- foreign key to channels on purpose: disconnecting a channel deletes that channel, and this
-- row must outlive it to say "done". choice: keep | deactivate | delete;
-- status: running | failed | done; forced: retried without the remote steps.
CREATE TABLE disconnects (
    workspace_id   BLOB    NOT NULL PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    channel_id     BLOB,
    choice         TEXT    NOT NULL,
    step           TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    error          TEXT,
    forced         BOOLEAN NOT NULL,
    started_at_ms  BIGINT  NOT NULL,
    updated_at_ms  BIGINT  NOT NULL,
    finished_at_ms BIGINT
);

-- That a whole-workspace disconnect finished, written in the transaction that wipes the
-- workspace's data; no seller data, only the choice and when.
CREATE TABLE disconnect_receipts (
    workspace_id   BLOB   NOT NULL PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    choice         TEXT   NOT NULL,
    finished_at_ms BIGINT NOT NULL
);
