-- $1 organization, $2 workflow run or '', $3 statuses or an empty array.
-- COLLATE "C": strings in byte order, the same on every store.
SELECT id, domain, shop_id, variant_id, status, priority, workflow_run_id, snapshot_date,
       recommended_qty, recommended_discount_pct, confidence, evidence, created_at, updated_at
FROM {{.Tasks}}
WHERE organization_id = $1::text
  AND ($2::text = '' OR workflow_run_id = $2::text)
  AND (cardinality($3::text[]) = 0 OR status = ANY ($3::text[]))
ORDER BY domain COLLATE "C", shop_id COLLATE "C", variant_id COLLATE "C", created_at, id
