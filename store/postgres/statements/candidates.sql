{{/*
The classification every CreateTasks statement shares. $1 organization,
$3 min confidence, $6 domains; $7 shops, $8 variants and $10 places in the
batch (1-based) of the pairs, sorted by (variant, shop); $11 the snapshot
date every domain is read at, or NULL for each domain's latest.

The lock order of every statement that writes tasks is the order of the
open-key index, (variant, shop, domain) in byte order (0005): the order
of the pairs given, and of the requested domains ($6, ascending).

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
    -- The action vectors of pair p, one per requested domain at the date
    -- read for it, classified; a candidate with none is unmatched. The
    -- domains come in key order, each sub-select is kept whole (OFFSET 0)
    -- and each refers to the one around it, so the pairs, then the
    -- domains, are the outer loops whatever the planner believes of the
    -- sizes: the rows come out in the lock order, (variant, shop, domain),
    -- with nothing to sort. Each row is one seek of the primary key: its
    -- date and domain are written as a range from the key to itself, which
    -- only an index with those columns in that order serves, since with
    -- equalities a planner with no statistics yet may filter the
    -- latest-snapshot index's (organization, domain, date) instead, and a
    -- range over the whole key is one whose size it misjudges. ord is the
    -- candidate's place in the batch (1-based).
    SELECT ((l.di - 1) * cardinality($7::text[]) + p.pi)::int AS ord, v.organization_id, v.domain,
           v.snapshot_date, v.recommended_qty, v.recommended_discount_pct, v.recommendation_confidence,
           v.decision_vector_snapshot,
           CASE
               WHEN $3::float8 > 0 AND v.recommendation_confidence < $3::float8 THEN 'suppressed'
               WHEN v.domain = 'markdown' AND coalesce(v.recommended_discount_pct, 0) <= 0 THEN 'skipped'
               WHEN v.domain <> 'markdown' AND coalesce(v.recommended_qty, 0) <= 0 THEN 'skipped'
               ELSE 'eligible'
           END AS outcome
    FROM latest l
    CROSS JOIN LATERAL (
        SELECT a.* FROM {{.ActionVector}} a
        WHERE a.organization_id = $1::text AND a.variant_id = p.variant_id AND a.shop_id = p.shop_id
          AND (a.snapshot_date, a.domain) >= (l.snapshot_date, l.domain)
          AND (a.snapshot_date, a.domain) <= (l.snapshot_date, l.domain)
        OFFSET 0
    ) v
    OFFSET 0
{{- end}}

{{define "refresh" -}}
ON CONFLICT (organization_id, variant_id, shop_id, domain)
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
    -- Every candidate's key, and its place in the batch (1-based), in the
    -- lock order: pairs outside (the sub-select refers to p), domains
    -- inside.
    SELECT l.domain, p.shop_id, p.variant_id, l.ord
    FROM pair p
    CROSS JOIN LATERAL (
        SELECT l.domain, ((l.di - 1) * cardinality($7::text[]) + p.pi)::int AS ord FROM latest l OFFSET 0
    ) l
)
{{- end}}

{{define "lock open tasks of keys" -}}
    -- The open task of every candidate, locked in the lock order, one key
    -- after the other, before anything is written. The upsert locks the
    -- eligible candidates' tasks and the retirement the others': two calls
    -- that disagree on which keys are eligible would otherwise lock them
    -- in two orders, and could deadlock.
    SELECT k.ord, t.id, t.status
    FROM keys k
    CROSS JOIN LATERAL (
        SELECT t.id, t.status FROM {{.Tasks}} t
        WHERE {{template "open task of k"}}
        FOR UPDATE
    ) t
{{- end}}

{{define "open task of k" -}}
t.organization_id = $1::text AND t.variant_id = k.variant_id COLLATE "C" AND t.shop_id = k.shop_id COLLATE "C"
          AND t.domain = k.domain COLLATE "C" AND t.source_type = 'ACTION_VECTOR' AND t.status IN ('OPEN', 'IN_PROGRESS')
{{- end}}
