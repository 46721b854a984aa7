-- Action vectors: one recommendation per (organization, variant, shop,
-- snapshot date, domain). In production it mirrors the data platform.
CREATE TABLE IF NOT EXISTS action_vector (
    organization_id           TEXT    NOT NULL,
    variant_id                TEXT    NOT NULL,
    shop_id                   TEXT    NOT NULL,
    snapshot_date             TEXT    NOT NULL CHECK (snapshot_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    domain                    TEXT    NOT NULL CHECK (domain IN ('restock', 'rebalance', 'markdown')),
    recommended_qty           INTEGER,
    recommended_discount_pct  REAL,
    recommendation_confidence REAL,
    decision_vector_snapshot  TEXT    NOT NULL CHECK (json_valid(decision_vector_snapshot)),
    PRIMARY KEY (organization_id, variant_id, shop_id, snapshot_date, domain)
) WITHOUT ROWID;

-- Serves "latest snapshot date per (organization, domain)" with one seek.
CREATE INDEX IF NOT EXISTS action_vector_latest_idx
    ON action_vector (organization_id, domain, snapshot_date);
