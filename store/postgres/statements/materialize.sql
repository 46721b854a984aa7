-- One chunk of a batch, in one statement: classify every candidate against
-- the snapshot of its domain, upsert the eligible ones in the lock order,
-- and count. $1 organization, $2 workflow run, $3 min confidence, $4
-- priority of new tasks, $5 now, $6 domains; $7 shops, $8 variants and $10
-- places in the batch (1-based) of the pairs, sorted by (variant, shop); $9
-- the proposed ids in batch order: candidate i (0-based) is domain i / #pairs
-- with the pair at place i % #pairs + 1; $11 the pinned snapshot date or NULL.
--
-- With .Retire it also dismisses the OPEN task of every candidate that is
-- not eligible, and counts the candidates' OPEN tasks for the retirement
-- budget; with .List it returns every candidate's outcome and task instead
-- of the counts.
WITH {{template "candidates" .}},
matched AS MATERIALIZED (
    -- The candidates with an action vector; only eligible rows keep their
    -- evidence, the one wide column.
    SELECT r.ord, r.domain, p.shop_id, p.variant_id, r.snapshot_date, r.recommended_qty,
           r.recommended_discount_pct, r.recommendation_confidence, r.outcome,
           CASE WHEN r.outcome = 'eligible' THEN r.decision_vector_snapshot END AS decision_vector_snapshot
    FROM pair p
    CROSS JOIN LATERAL (
    {{template "lookup" .}}
    ) r
),
{{- if .Retire}}
{{template "keys" .}},
locked AS MATERIALIZED (
{{template "lock open tasks of keys" .}}
),
{{- end}}
upserted AS (
    INSERT INTO {{.Tasks}} AS t (id, organization_id, source_type, domain, shop_id, variant_id, status, priority,
                                 workflow_run_id, snapshot_date, recommended_qty, recommended_discount_pct,
                                 confidence, evidence, created_at, updated_at)
    SELECT (SELECT $9::uuid[])[m.ord], $1::text, 'ACTION_VECTOR', m.domain, m.shop_id, m.variant_id, 'OPEN', $4::text,
           $2::text, m.snapshot_date, m.recommended_qty, m.recommended_discount_pct,
           m.recommendation_confidence, m.decision_vector_snapshot, $5::timestamptz, $5::timestamptz
    FROM matched m
    WHERE m.outcome = 'eligible'
    {{- if .Retire}}
      -- Counting the locked tasks, once, before the first row is written
      -- takes every lock first.
      AND (SELECT count(*) FROM locked) >= 0
    {{- end}}
    {{template "refresh"}}
    RETURNING t.id{{if .List}}, t.domain, t.shop_id, t.variant_id{{end}}
){{if .Retire}},
retired AS (
    -- The OPEN tasks the upsert did not refresh, their candidates being
    -- unmatched, suppressed or skipped, are dismissed; IN_PROGRESS tasks
    -- are left alone. Their ids go in as one array, so the tasks are found
    -- through the primary key whatever the planner believes of the sizes,
    -- and NOT IN over the upsert's ids is a hashed sub-plan.
    UPDATE {{.Tasks}} t
    SET status = 'DISMISSED', workflow_run_id = $2::text, updated_at = $5::timestamptz
    WHERE t.id = ANY ((SELECT array_agg(l.id) FROM locked l
                       WHERE l.status = 'OPEN' AND l.id NOT IN (SELECT u.id FROM upserted u))::uuid[])
    RETURNING t.id{{if .List}}, t.domain, t.shop_id, t.variant_id{{end}}
){{end}}
{{- if .List}}
-- Every candidate with an action vector, with its ord (1-based) and
-- outcome; every task written or retired, with its key, for the client to
-- place.
SELECT m.ord, m.outcome, NULL::uuid, NULL::text, NULL::text, NULL::text
FROM matched m
UNION ALL
SELECT NULL, 'written', u.id, u.domain, u.shop_id, u.variant_id
FROM upserted u
{{- if .Retire}}
UNION ALL
SELECT NULL, 'retired', r.id, r.domain, r.shop_id, r.variant_id
FROM retired r
UNION ALL
-- The candidates' OPEN tasks before the call, in the place of ord.
SELECT (SELECT count(*) FROM locked WHERE status = 'OPEN')::int, 'open', NULL, NULL, NULL, NULL
{{- end}}
{{- else}}
-- A task was created exactly when it kept the id proposed for it: an update
-- keeps the open task's own id. INTERSECT is a hash or sort set operation,
-- linear whatever the planner believes of the sizes.
SELECT cardinality($6::text[]) * cardinality($7::text[]) - count(*),
       count(*) FILTER (WHERE outcome = 'suppressed'),
       count(*) FILTER (WHERE outcome = 'skipped'),
       count(*) FILTER (WHERE outcome = 'eligible'),
       (SELECT count(*) FROM upserted),
       (SELECT count(*) FROM (SELECT id FROM upserted INTERSECT ALL SELECT unnest((SELECT $9::uuid[]))) created),
       {{if .Retire}}(SELECT count(*) FROM retired){{else}}0{{end}},
       {{if .Retire}}(SELECT count(*) FROM locked WHERE status = 'OPEN'){{else}}0{{end}}
FROM matched
{{- end}}
