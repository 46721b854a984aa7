-- After the upsert of a chunk: dismiss the OPEN task of every candidate the
-- upsert did not refresh, its candidate being unmatched, suppressed or
-- skipped, and return each one's place in the batch (1-based) and id.
-- Parameters as in materialize.sql, and $12 the OPEN tasks lock_stale.sql
-- locked. The upsert stamped every eligible candidate's task with the run
-- and now, so a task without both belongs to a candidate that is not
-- eligible. IN_PROGRESS tasks are left alone.
WITH {{template "params"}}, {{template "candidates" .}}, {{template "keys" .}}
UPDATE {{.Tasks}} t
SET status = 'DISMISSED', workflow_run_id = $2::text, updated_at = $5::timestamptz
FROM keys k
WHERE {{template "open task of k"}} AND t.status = 'OPEN' AND t.id = ANY ($12::uuid[])
  AND NOT (t.workflow_run_id = $2::text AND t.updated_at = $5::timestamptz)
RETURNING k.ord, t.id
