-- The distributed layout (WithCitus), step one of a chunk: upsert the
-- eligible candidates in the lock order. Parameters as in materialize.sql.
--
-- Citus runs a statement on the one worker that holds the organization
-- only if every part of it can go there: it cannot for an INSERT in a CTE,
-- and for INSERT ... SELECT only when the organization written comes from
-- the distribution column of a table read, so the classification sits
-- inside the SELECT and organization_id is the action vector's own.
INSERT INTO {{.Tasks}} AS t (id, organization_id, source_type, domain, shop_id, variant_id, status, priority,
                             workflow_run_id, snapshot_date, recommended_qty, recommended_discount_pct,
                             confidence, evidence, created_at, updated_at)
WITH {{template "candidates" .}}
SELECT ($9::uuid[])[r.ord], r.organization_id, 'ACTION_VECTOR', r.domain, p.shop_id, p.variant_id, 'OPEN', $4::text,
       $2::text, r.snapshot_date, r.recommended_qty, r.recommended_discount_pct,
       r.recommendation_confidence, r.decision_vector_snapshot, $5::timestamptz, $5::timestamptz
FROM pair p
CROSS JOIN LATERAL (
{{template "lookup" .}}
) r
WHERE r.outcome = 'eligible'
{{template "refresh"}}
