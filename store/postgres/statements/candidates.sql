{{/*
The classification every CreateTasks statement shares. $1 organization,
$3 min confidence, $6 domains; $7 shops, $8 variants and $10 places in the
batch (1-based) of the pairs, sorted by (variant, shop); $11 the snapshot
date every domain is read at, or NULL for each domain's latest.

The arrays reach the planner only through scalar sub-selects, so it never
sees their sizes: the plan is the same for ten pairs as for a million, and
it is the one written here (index lookups, no hash join over the whole
action-vector table, no JIT compilation).
*/}}

{{define "candidates" -}}
latest AS MATERIALIZED (
    -- The snapshot date of each requested domain: the pinned one, or the
    -- latest, one index seek each.
    SELECT d.domain, d.di,
           coalesce($11::date, (SELECT max(a.snapshot_date) FROM {{.ActionVector}} a
                                WHERE a.organization_id = $1::text AND a.domain = d.domain)) AS snapshot_date
    FROM unnest((SELECT $6::text[])) WITH ORDINALITY AS d(domain, di)
),
pair AS MATERIALIZED (
    -- The pairs come in primary-key order, (variant, shop), so consecutive
    -- lookups read neighbouring pages; pi is a pair's place in the batch.
    SELECT p.shop_id, p.variant_id, p.pi
    FROM unnest((SELECT $7::text[]), (SELECT $8::text[]), (SELECT $10::int[])) AS p(shop_id, variant_id, pi)
)
{{- end}}

{{define "lookup" -}}
    -- The action vectors of pair p at their domain's latest date,
    -- classified; a candidate with none is unmatched. Each pair's rows come
    -- from one primary-key range scan: this sub-select (kept whole by
    -- OFFSET 0) only knows the pair, so the primary key is the one index
    -- that serves it, and the pairs are the outer loop whatever the planner
    -- believes of the table's size. A row is checked against its domain's
    -- latest date through the requested domains ($6) and their latest
    -- dates as arrays, computed once, so no join is left to plan. ord is
    -- the candidate's place in the batch (1-based).
    SELECT ((d.di - 1) * cardinality($7::text[]) + p.pi)::int AS ord, v.organization_id, v.domain,
           v.snapshot_date, v.recommended_qty, v.recommended_discount_pct, v.recommendation_confidence,
           v.decision_vector_snapshot,
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
{{- end}}

{{define "refresh" -}}
ON CONFLICT (organization_id, domain, shop_id, variant_id)
        WHERE source_type = 'ACTION_VECTOR' AND status IN ('OPEN', 'IN_PROGRESS')
    DO UPDATE SET workflow_run_id          = excluded.workflow_run_id,
                  snapshot_date            = excluded.snapshot_date,
                  recommended_qty          = excluded.recommended_qty,
                  recommended_discount_pct = excluded.recommended_discount_pct,
                  confidence               = excluded.confidence,
                  evidence                 = excluded.evidence,
                  updated_at               = excluded.updated_at
{{- end}}

{{define "params" -}}
params AS (
    -- Every parameter, typed once: a statement that needs only some of them
    -- still takes the same eleven, those of materialize.sql.
    SELECT $1::text, $2::text, $3::float8, $4::text, $5::timestamptz, $6::text[], $7::text[], $8::text[], $9::uuid[], $10::int[],
           $11::date
)
{{- end}}

{{define "keys" -}}
keys AS MATERIALIZED (
    -- Every candidate's key, and its place in the batch (1-based), which is
    -- key order.
    SELECT l.domain, p.shop_id, p.variant_id, ((l.di - 1) * cardinality($7::text[]) + p.pi)::int AS ord
    FROM latest l CROSS JOIN pair p
)
{{- end}}

{{define "open task of k" -}}
t.organization_id = $1::text AND t.domain = k.domain AND t.shop_id = k.shop_id AND t.variant_id = k.variant_id
          AND t.source_type = 'ACTION_VECTOR' AND t.status IN ('OPEN', 'IN_PROGRESS')
{{- end}}
