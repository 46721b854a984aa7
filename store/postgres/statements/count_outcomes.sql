-- The distributed layout (WithCitus), step two of a chunk, after
-- upsert_tasks.sql in the same transaction: count the outcomes, a SELECT
-- Citus runs on the organization's worker. Parameters as in materialize.sql.
--
-- A task was created exactly when it carries the id proposed for its
-- candidate: an update keeps the open task's own id. The tasks compared are
-- those the call stamped so far, among the organization's open tasks (there
-- is no run index: 0002), so each chunk reads them again; INTERSECT ALL is
-- a hash or sort set operation, linear whatever the planner believes of
-- the sizes, where a probe of tasks per candidate is not on a table the
-- planner thinks empty.
WITH {{template "candidates" .}}
SELECT cardinality($6::text[]) * cardinality($7::text[]) - count(*),
       count(*) FILTER (WHERE r.outcome = 'suppressed'),
       count(*) FILTER (WHERE r.outcome = 'skipped'),
       count(*) FILTER (WHERE r.outcome = 'eligible'),
       (SELECT count(*) FROM (
           SELECT t.id FROM {{.Tasks}} t
           WHERE t.organization_id = $1::text AND t.source_type = 'ACTION_VECTOR' AND t.status IN ('OPEN', 'IN_PROGRESS')
             AND t.workflow_run_id = $2::text AND t.priority = $4::text AND t.created_at = $5::timestamptz
           INTERSECT ALL
           SELECT unnest((SELECT $9::uuid[]))) created)
FROM pair p
CROSS JOIN LATERAL (
{{template "lookup" .}}
) r
