-- The OPEN tasks of the organization the run still owns, for a dry run of
-- sweep_run.sql. ?1 organization, ?2 workflow run.
SELECT count(*)
FROM tasks
WHERE organization_id = ?1 AND workflow_run_id = ?2 AND source_type = 'ACTION_VECTOR' AND status = 'OPEN'
