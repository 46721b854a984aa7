-- ?1 organization, ?2 workflow run or '', ?3 statuses (JSON array) or NULL.
-- TEXT compares in byte order, as the PostgreSQL store's COLLATE "C" does.
SELECT id, domain, shop_id, variant_id, status, priority, workflow_run_id, snapshot_date,
       recommended_qty, recommended_discount_pct, confidence, evidence, created_at, updated_at
FROM tasks
WHERE organization_id = ?1
  AND (?2 = '' OR workflow_run_id = ?2)
  AND (?3 IS NULL OR status IN (SELECT value FROM json_each(?3)))
ORDER BY domain, shop_id, variant_id, created_at, id
