-- One chunk of a batch, in one statement: classify every candidate against
-- the latest snapshot of its domain, upsert the eligible ones in key order,
-- and count. $1 organization, $2 workflow run, $3 min confidence, $4
-- priority of new tasks, $5 now, $6 domains; $7 shops, $8 variants and $10
-- places in the batch (1-based) of the pairs, sorted by (variant, shop); $9
-- the proposed ids in batch order: candidate i (0-based) is domain i / #pairs
-- with the pair at place i % #pairs + 1.
--
-- The arrays reach the planner only through scalar sub-selects, so it never
-- sees their sizes: the plan is the same for ten pairs as for a million, and
-- it is the one written here (index lookups, no hash join over the whole
-- action-vector table, no JIT compilation).
WITH latest AS MATERIALIZED (
    -- The latest snapshot date of each requested domain: one index seek each.
    SELECT d.domain, d.di,
           (SELECT max(a.snapshot_date) FROM {{.ActionVector}} a
            WHERE a.organization_id = $1::text AND a.domain = d.domain) AS snapshot_date
    FROM unnest((SELECT $6::text[])) WITH ORDINALITY AS d(domain, di)
),
pair AS MATERIALIZED (
    -- The pairs come in primary-key order, (variant, shop), so consecutive
    -- lookups read neighbouring pages; pi is a pair's place in the batch.
    SELECT p.shop_id, p.variant_id, p.pi
    FROM unnest((SELECT $7::text[]), (SELECT $8::text[]), (SELECT $10::int[])) AS p(shop_id, variant_id, pi)
),
matched AS MATERIALIZED (
    -- The candidates with an action vector at their domain's latest date,
    -- classified; the other candidates are unmatched, and are counted as
    -- the rest. Each pair's rows come from one primary-key range scan: the
    -- lateral sub-select (kept whole by OFFSET 0) only knows the pair, so
    -- the primary key is the one index that serves it, and the pairs are
    -- the outer loop whatever the planner believes of the table's size. A
    -- row is checked against its domain's latest date through the
    -- requested domains ($6) and their latest dates as arrays, computed
    -- once, so no join is left to plan. Only eligible rows keep their
    -- evidence, the one wide column.
    SELECT ((r.di - 1) * cardinality($7::text[]) + p.pi)::int AS ord, r.domain, p.shop_id, p.variant_id,
           r.snapshot_date, r.recommended_qty, r.recommended_discount_pct, r.recommendation_confidence,
           r.outcome, CASE WHEN r.outcome = 'eligible' THEN r.decision_vector_snapshot END AS decision_vector_snapshot
    FROM pair p
    CROSS JOIN LATERAL (
        SELECT v.domain, d.di, v.snapshot_date, v.recommended_qty, v.recommended_discount_pct,
               v.recommendation_confidence, v.decision_vector_snapshot,
               CASE
                   WHEN $3::float8 > 0 AND v.recommendation_confidence < $3::float8 THEN 'suppressed'
                   WHEN v.domain = 'markdown' AND coalesce(v.recommended_discount_pct, 0) <= 0 THEN 'skipped'
                   WHEN v.domain <> 'markdown' AND coalesce(v.recommended_qty, 0) <= 0 THEN 'skipped'
                   ELSE 'eligible'
               END AS outcome
        FROM {{.ActionVector}} v
        CROSS JOIN LATERAL (SELECT array_position((SELECT $6::text[]), v.domain) AS di) d
        WHERE v.organization_id = $1::text AND v.variant_id = p.variant_id AND v.shop_id = p.shop_id
          AND v.snapshot_date >= (SELECT min(snapshot_date) FROM latest)
          AND v.snapshot_date = (SELECT array_agg(l.snapshot_date ORDER BY l.di) FROM latest l)[d.di]
        OFFSET 0
    ) r
),
upserted AS (
    INSERT INTO {{.Tasks}} AS t (id, organization_id, source_type, domain, shop_id, variant_id, status, priority,
                                 workflow_run_id, snapshot_date, recommended_qty, recommended_discount_pct,
                                 confidence, evidence, created_at, updated_at)
    SELECT (SELECT $9::uuid[])[m.ord], $1::text, 'ACTION_VECTOR', m.domain, m.shop_id, m.variant_id, 'OPEN', $4::text,
           $2::text, m.snapshot_date, m.recommended_qty, m.recommended_discount_pct,
           m.recommendation_confidence, m.decision_vector_snapshot, $5::timestamptz, $5::timestamptz
    FROM matched m
    WHERE m.outcome = 'eligible'
    ORDER BY m.ord
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
-- A task was created exactly when it kept the id proposed for it: an update
-- keeps the open task's own id. INTERSECT is a hash or sort set operation,
-- linear whatever the planner believes of the sizes.
SELECT cardinality($6::text[]) * cardinality($7::text[]) - count(*),
       count(*) FILTER (WHERE outcome = 'suppressed'),
       count(*) FILTER (WHERE outcome = 'skipped'),
       count(*) FILTER (WHERE outcome = 'eligible'),
       (SELECT count(*) FROM upserted),
       (SELECT count(*) FROM (SELECT id FROM upserted INTERSECT ALL SELECT unnest((SELECT $9::uuid[]))) created)
FROM matched
