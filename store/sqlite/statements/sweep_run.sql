-- Dismiss the OPEN tasks of the organization the run still owns. ?1
-- organization, ?2 workflow run, ?3 now.
UPDATE tasks
SET status = 'DISMISSED', updated_at = ?3
WHERE organization_id = ?1 AND workflow_run_id = ?2 AND source_type = 'ACTION_VECTOR' AND status = 'OPEN'
