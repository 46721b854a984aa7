-- The OPEN tasks of one chunk of pairs whose candidate is not eligible
-- (unmatched, suppressed or skipped), as the CTE stale that
-- retire_stale.sql dismisses and a dry run lists. ?1 organization, ?4
-- domains (JSON array, in batch order), ?5 the chunk's pairs (JSON array
-- of [shop, variant]), ?6 place of the chunk's first pair, ?7 pairs in the
-- batch. IN_PROGRESS tasks are left alone.
--
-- CROSS JOIN keeps SQLite to this order: each candidate is checked against
-- the candidate table by its place first, and only one that is not
-- eligible looks its task up.
WITH stale AS (
    SELECT t.rowid AS task_rowid, t.id, t.domain, t.shop_id, t.variant_id
    FROM json_each(?4) d
    CROSS JOIN json_each(?5) p
    CROSS JOIN tasks t
    WHERE NOT EXISTS (SELECT 1 FROM temp.actionvector_task_candidate c WHERE c.ord = d.key * ?7 + ?6 + p.key AND c.outcome = 2)
      AND t.organization_id = ?1 AND t.domain = d.value AND t.shop_id = p.value ->> 0 AND t.variant_id = p.value ->> 1
      AND t.source_type = 'ACTION_VECTOR' AND t.status IN ('OPEN', 'IN_PROGRESS') AND t.status = 'OPEN'
)
