-- The distributed layout (WithCitus), step two of a chunk, after
-- upsert_tasks.sql in the same transaction: count the outcomes, a SELECT
-- Citus runs on the organization's worker. Parameters as in materialize.sql.
--
-- A task was created exactly when it carries the id proposed for its
-- candidate: an update keeps the open task's own id. Each eligible
-- candidate's open task is found by its key, one seek of the open-key
-- index in the lock order, as the lookups go: the chunk's own tasks, not
-- every open task of the organization once per chunk.
WITH {{template "params"}}, {{template "candidates" .}}
SELECT cardinality($6::text[]) * cardinality($7::text[]) - count(*),
       count(*) FILTER (WHERE r.outcome = 'suppressed'),
       count(*) FILTER (WHERE r.outcome = 'skipped'),
       count(*) FILTER (WHERE r.outcome = 'eligible'),
       count(*) FILTER (WHERE t.id = ($9::uuid[])[r.ord])
FROM pair p
CROSS JOIN LATERAL (
{{template "lookup" .}}
) r
LEFT JOIN LATERAL (
    SELECT t.id FROM {{.Tasks}} t
    WHERE r.outcome = 'eligible' AND t.organization_id = $1::text AND t.variant_id = p.variant_id COLLATE "C"
      AND t.shop_id = p.shop_id COLLATE "C" AND t.domain = r.domain COLLATE "C"
      AND t.source_type = 'ACTION_VECTOR' AND t.status IN ('OPEN', 'IN_PROGRESS')
    OFFSET 0
) t ON true
