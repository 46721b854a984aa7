-- $1..$9 the columns of the rows, as parallel arrays; no two rows share a
-- primary key (ON CONFLICT cannot touch a row twice in one statement).
INSERT INTO {{.ActionVector}} AS a (organization_id, variant_id, shop_id, snapshot_date, domain,
                                    recommended_qty, recommended_discount_pct, recommendation_confidence,
                                    decision_vector_snapshot)
SELECT r.organization_id, r.variant_id, r.shop_id, r.snapshot_date, r.domain,
       r.recommended_qty, r.recommended_discount_pct, r.recommendation_confidence, r.snapshot::jsonb
FROM unnest($1::text[], $2::text[], $3::text[], $4::date[], $5::text[], $6::int[], $7::float8[], $8::float8[], $9::text[])
     AS r(organization_id, variant_id, shop_id, snapshot_date, domain,
          recommended_qty, recommended_discount_pct, recommendation_confidence, snapshot)
ON CONFLICT (organization_id, variant_id, shop_id, snapshot_date, domain)
DO UPDATE SET recommended_qty           = excluded.recommended_qty,
              recommended_discount_pct  = excluded.recommended_discount_pct,
              recommendation_confidence = excluded.recommendation_confidence,
              decision_vector_snapshot  = excluded.decision_vector_snapshot
