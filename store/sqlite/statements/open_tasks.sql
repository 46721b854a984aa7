-- A dry run's retire_stale.sql: the OPEN tasks it would dismiss, in one
-- chunk of pairs. Parameters as in retire_stale.sql, but ?2 and ?3.
SELECT t.id, t.domain, t.shop_id, t.variant_id
FROM json_each(?4) d
CROSS JOIN json_each(?5) p
CROSS JOIN tasks t
WHERE NOT EXISTS (SELECT 1 FROM temp.actionvector_task_candidate c WHERE c.ord = d.key * ?7 + ?6 + p.key AND c.outcome = 2)
  AND t.organization_id = ?1 AND t.domain = d.value AND t.shop_id = p.value ->> 0 AND t.variant_id = p.value ->> 1
  AND t.source_type = 'ACTION_VECTOR' AND t.status IN ('OPEN', 'IN_PROGRESS') AND t.status = 'OPEN'
