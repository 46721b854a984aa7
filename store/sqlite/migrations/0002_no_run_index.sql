-- A refresh moves an open task to the refreshing run: with an index on the
-- run, every refresh rewrites an entry of it as well as the row. Without
-- one, a sweep reads the organization's open tasks through the open-key
-- index instead (sweep_run.sql), as on PostgreSQL. The second name is the
-- index's in databases made before it was renamed.
DROP INDEX IF EXISTS tasks_run_idx;
DROP INDEX IF EXISTS tasks_workflow_run_idx;
