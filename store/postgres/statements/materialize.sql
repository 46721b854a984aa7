-- One chunk of a batch: classify every candidate against the latest
-- snapshot of its domain, upsert the eligible ones in key order, and count.
-- $1 organization, $2 workflow run, $3 min confidence, $4 priority of new
-- tasks, $5 now, $6 domains, $7 shops and $8 variants (the pairs), $9 the
-- proposed ids: candidate i = (domain i / #pairs, pair i % #pairs).
WITH latest AS (
    SELECT d.domain, d.di,
           (SELECT max(a.snapshot_date) FROM {{.ActionVector}} a
            WHERE a.organization_id = $1::text AND a.domain = d.domain) AS snapshot_date
    FROM unnest($6::text[]) WITH ORDINALITY AS d(domain, di)
),
candidate AS (
    SELECT l.domain, p.shop_id, p.variant_id, l.snapshot_date,
           ((l.di - 1) * cardinality($7::text[]) + p.pi)::int AS ord
    FROM latest l
    CROSS JOIN unnest($7::text[], $8::text[]) WITH ORDINALITY AS p(shop_id, variant_id, pi)
),
classified AS (
    SELECT c.ord, c.domain, c.shop_id, c.variant_id, c.snapshot_date,
           ($9::uuid[])[c.ord] AS proposed_id,
           a.recommended_qty, a.recommended_discount_pct, a.recommendation_confidence,
           a.decision_vector_snapshot,
           CASE
               WHEN a.organization_id IS NULL THEN 'unmatched'
               WHEN $3::float8 > 0 AND a.recommendation_confidence < $3::float8 THEN 'suppressed'
               WHEN c.domain = 'markdown' AND coalesce(a.recommended_discount_pct, 0) <= 0 THEN 'skipped'
               WHEN c.domain <> 'markdown' AND coalesce(a.recommended_qty, 0) <= 0 THEN 'skipped'
               ELSE 'eligible'
           END AS outcome
    FROM candidate c
    LEFT JOIN {{.ActionVector}} a
           ON a.organization_id = $1::text AND a.variant_id = c.variant_id AND a.shop_id = c.shop_id
          AND a.snapshot_date = c.snapshot_date AND a.domain = c.domain
),
upserted AS (
    INSERT INTO {{.Tasks}} AS t (id, organization_id, source_type, domain, shop_id, variant_id, status, priority,
                                 workflow_run_id, snapshot_date, recommended_qty, recommended_discount_pct,
                                 confidence, evidence, created_at, updated_at)
    SELECT proposed_id, $1::text, 'ACTION_VECTOR', domain, shop_id, variant_id, 'OPEN', $4::text,
           $2::text, snapshot_date, recommended_qty, recommended_discount_pct,
           recommendation_confidence, decision_vector_snapshot, $5::timestamptz, $5::timestamptz
    FROM classified
    WHERE outcome = 'eligible'
    ORDER BY ord
    ON CONFLICT (organization_id, domain, shop_id, variant_id)
        WHERE source_type = 'ACTION_VECTOR' AND status IN ('OPEN', 'IN_PROGRESS')
    DO UPDATE SET workflow_run_id          = excluded.workflow_run_id,
                  snapshot_date            = excluded.snapshot_date,
                  recommended_qty          = excluded.recommended_qty,
                  recommended_discount_pct = excluded.recommended_discount_pct,
                  confidence               = excluded.confidence,
                  evidence                 = excluded.evidence,
                  updated_at               = excluded.updated_at
    RETURNING t.id
)
-- A candidate created a task exactly when the task kept the id proposed
-- for it; an update keeps the open task's own id.
SELECT count(*) FILTER (WHERE outcome = 'unmatched'),
       count(*) FILTER (WHERE outcome = 'suppressed'),
       count(*) FILTER (WHERE outcome = 'skipped'),
       count(*) FILTER (WHERE outcome = 'eligible'),
       (SELECT count(*) FROM upserted),
       (SELECT count(*) FROM upserted u JOIN unnest($9::uuid[]) AS p(id) ON p.id = u.id)
FROM classified
