-- ?1 rows: a JSON array of [organization, variant, shop, date, domain, qty,
-- discount, confidence, snapshot] arrays. The last of several rows with the
-- same primary key wins.
INSERT INTO action_vector (organization_id, variant_id, shop_id, snapshot_date, domain,
                           recommended_qty, recommended_discount_pct, recommendation_confidence,
                           decision_vector_snapshot)
SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, value->>8
FROM json_each(?1)
WHERE true
ON CONFLICT (organization_id, variant_id, shop_id, snapshot_date, domain)
DO UPDATE SET recommended_qty           = excluded.recommended_qty,
              recommended_discount_pct  = excluded.recommended_discount_pct,
              recommendation_confidence = excluded.recommendation_confidence,
              decision_vector_snapshot  = excluded.decision_vector_snapshot
