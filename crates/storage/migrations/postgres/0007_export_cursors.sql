-- Exports send only what changed (F4). Every write to a workspace's catalog takes the next
-- catalog version (one row per workspace, locked until the write commits, so versions commit
-- in order) and stamps the items it changes with it; each channel remembers the version its
-- last export had seen.
ALTER TABLE catalog_items ADD COLUMN changed_version BIGINT NOT NULL DEFAULT 0;
CREATE INDEX catalog_items_by_version ON catalog_items (workspace_id, changed_version);

CREATE TABLE catalog_versions (
    workspace_id  UUID   NOT NULL PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    version       BIGINT NOT NULL
);

-- A channel's named positions, e.g. `export`: the catalog version its exports have seen.
CREATE TABLE channel_cursors (
    workspace_id  UUID   NOT NULL,
    channel_id    UUID   NOT NULL,
    name          TEXT   NOT NULL,
    position      BIGINT NOT NULL,
    PRIMARY KEY (channel_id, name),
    FOREIGN KEY (workspace_id, channel_id) REFERENCES channels (workspace_id, id) ON DELETE CASCADE
);
