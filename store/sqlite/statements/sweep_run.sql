-- Dismiss the OPEN tasks of the organization the run still owns. ?1
-- organization, ?2 workflow run, ?3 now.
-- No index holds the run (0002): the tasks are found among the
-- organization's open ones, through the open-key index, whose condition
-- the WHERE clause repeats word for word so that SQLite may use it.
UPDATE tasks
SET status = 'DISMISSED', updated_at = ?3
WHERE organization_id = ?1 AND source_type = 'ACTION_VECTOR' AND status IN ('OPEN', 'IN_PROGRESS')
  AND status = 'OPEN' AND workflow_run_id = ?2
