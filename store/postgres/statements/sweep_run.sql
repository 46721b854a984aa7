-- Dismiss the OPEN tasks of the organization the run still owns. $1
-- organization, $2 workflow run, $3 now. No index holds the run, so that a
-- refresh is a HOT update (0002): they are found among the organization's
-- open tasks, through the open-key index or the table. The sub-select locks
-- them in the lock order, the open-key index's, (variant, shop, domain) in
-- byte order, as CreateTasks writes them, so a sweep and a call never
-- deadlock; a task a call refreshed in the meantime is no longer the
-- run's when it is locked, and is left alone.
UPDATE {{.Tasks}} t
SET status = 'DISMISSED', updated_at = $3::timestamptz
FROM (
    SELECT id
    FROM {{.Tasks}}
    WHERE organization_id = $1::text AND workflow_run_id = $2::text AND source_type = 'ACTION_VECTOR' AND status = 'OPEN'
    ORDER BY variant_id COLLATE "C", shop_id COLLATE "C", domain COLLATE "C"
    FOR UPDATE
) stale
WHERE t.organization_id = $1::text AND t.id = stale.id
