-- The eligible candidates of one call, keyed by their place in the batch,
-- and two rows that tally the others: ord -1 the suppressed, ord -2 the
-- skipped. Per connection, emptied before and after each call.
CREATE TEMP TABLE IF NOT EXISTS actionvector_task_candidate (
    ord                      INTEGER PRIMARY KEY,
    domain                   TEXT,
    shop_id                  TEXT,
    variant_id               TEXT,
    snapshot_date            TEXT,
    recommended_qty          INTEGER,
    recommended_discount_pct REAL,
    confidence               REAL,
    evidence                 TEXT,
    tally                    INTEGER NOT NULL
)
