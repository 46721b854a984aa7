-- Every candidate of a chunk with its classification and its open task:
-- what a dry run would do, and, after the writes of a call, what it did.
-- Parameters as in materialize.sql. Read only: it locks nothing.
WITH {{template "params"}}, {{template "candidates" .}}, {{template "keys" .}},
matched AS MATERIALIZED (
    SELECT r.ord, r.outcome
    FROM pair p
    CROSS JOIN LATERAL (
    {{template "lookup" .}}
    ) r
),
found AS MATERIALIZED (
    -- Each candidate's open task is found by its key, through the index the
    -- upsert's conflict target is.
    SELECT k.ord, m.outcome, o.id, o.status
    FROM keys k
    LEFT JOIN matched m ON m.ord = k.ord
    LEFT JOIN LATERAL (SELECT t.id, t.status FROM {{.Tasks}} t WHERE {{template "open task of k"}}) o ON true
)
{{- if .PreviewRows}}
-- The candidates with an action vector or an OPEN task: ord (1-based),
-- outcome, the open task and whether it is OPEN.
SELECT ord, coalesce(outcome, 'unmatched'), id, status = 'OPEN'
FROM found
WHERE outcome IS NOT NULL OR status = 'OPEN'
{{- else}}
-- Unmatched, suppressed, skipped, eligible without an open task (would be
-- created), eligible with one (would be updated), not eligible with an
-- OPEN task (would be retired), and every OPEN task (the retirement
-- budget's measure).
SELECT count(*) FILTER (WHERE outcome IS NULL),
       count(*) FILTER (WHERE outcome = 'suppressed'),
       count(*) FILTER (WHERE outcome = 'skipped'),
       count(*) FILTER (WHERE outcome = 'eligible' AND id IS NULL),
       count(*) FILTER (WHERE outcome = 'eligible' AND id IS NOT NULL),
       count(*) FILTER (WHERE outcome IS DISTINCT FROM 'eligible' AND status = 'OPEN'),
       count(*) FILTER (WHERE status = 'OPEN')
FROM found
{{- end}}
