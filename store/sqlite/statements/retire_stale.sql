-- After the upsert, with stale_tasks.sql before it: dismiss the stale
-- tasks. ?2 workflow run, ?3 now.
UPDATE tasks
SET status = 'DISMISSED', workflow_run_id = ?2, updated_at = ?3
WHERE rowid IN (SELECT task_rowid FROM stale)
RETURNING id, domain, shop_id, variant_id
