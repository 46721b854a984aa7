CREATE TABLE IF NOT EXISTS tasks (
    id                       BLOB NOT NULL PRIMARY KEY CHECK (typeof(id) = 'blob' AND length(id) = 16), -- UUID, 16 bytes
    organization_id          TEXT NOT NULL,
    source_type              TEXT NOT NULL CHECK (source_type IN ('ACTION_VECTOR')),
    domain                   TEXT NOT NULL CHECK (domain IN ('restock', 'rebalance', 'markdown')),
    shop_id                  TEXT NOT NULL,
    variant_id               TEXT NOT NULL,
    status                   TEXT NOT NULL CHECK (status IN ('OPEN', 'IN_PROGRESS', 'DONE', 'DISMISSED')),
    priority                 TEXT NOT NULL CHECK (priority IN ('LOW', 'MEDIUM', 'HIGH', 'URGENT')),
    workflow_run_id          TEXT NOT NULL,
    snapshot_date            TEXT NOT NULL,
    recommended_qty          INTEGER,
    recommended_discount_pct REAL,
    confidence               REAL,
    evidence                 TEXT NOT NULL CHECK (json_valid(evidence)),
    created_at               TEXT NOT NULL,
    updated_at               TEXT NOT NULL
);

-- At most one open ACTION_VECTOR task per key: the upsert's conflict target.
CREATE UNIQUE INDEX IF NOT EXISTS tasks_open_key
    ON tasks (organization_id, domain, shop_id, variant_id)
    WHERE source_type = 'ACTION_VECTOR' AND status IN ('OPEN', 'IN_PROGRESS');

CREATE INDEX IF NOT EXISTS tasks_run_idx
    ON tasks (organization_id, workflow_run_id);
