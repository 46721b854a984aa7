-- The classified candidates of one call, keyed by their place in the
-- batch: every eligible one, and the others too when the call lists its
-- outcomes; otherwise two rows tally them, ord -1 the suppressed and ord
-- -2 the skipped. Per connection, emptied before and after each call.
CREATE TEMP TABLE IF NOT EXISTS actionvector_task_candidate (
    ord                      INTEGER PRIMARY KEY,
    outcome                  INTEGER NOT NULL, -- 0 suppressed, 1 skipped, 2 eligible
    domain                   TEXT,
    shop_id                  TEXT,
    variant_id               TEXT,
    snapshot_date            TEXT,
    recommended_qty          INTEGER,
    recommended_discount_pct REAL,
    confidence               REAL,
    evidence                 TEXT,
    tally                    INTEGER NOT NULL,
    id                       BLOB -- proposed, of an eligible candidate
)
