-- After the writes of a call that retired more tasks than
-- RetireGuardMinimum, one chunk of pairs: the OPEN tasks of its
-- candidates, from which the retirement budget's measure follows. ?1 organization, ?2 domains (JSON array), ?3 the chunk's pairs
-- (JSON array of [shop, variant]). Each candidate's open task is found by
-- its key, through the upsert's conflict target.
SELECT count(*)
FROM json_each(?2) d
CROSS JOIN json_each(?3) p
CROSS JOIN tasks t
WHERE t.organization_id = ?1 AND t.domain = d.value AND t.shop_id = p.value ->> 0 AND t.variant_id = p.value ->> 1
  AND t.source_type = 'ACTION_VECTOR' AND t.status IN ('OPEN', 'IN_PROGRESS') AND t.status = 'OPEN'
