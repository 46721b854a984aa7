-- A refresh rewrites an open task's row but none of its key: with no index
-- on a column a refresh changes, and room left on the page for the new
-- version (0003), PostgreSQL writes it on the same page and adds no index
-- entry (a heap-only tuple, HOT update); the old one is pruned when the
-- page is next read. The run index went against that, since every refresh
-- moves a task to the refreshing run. A sweep, rare beside refreshes, reads
-- the organization's open tasks through the open-key index instead, or the
-- table when the planner finds that cheaper. (One statement a file: Citus
-- sends a DROP INDEX to the workers with the text of its whole query.)
DROP INDEX IF EXISTS {{.RunIndexTable}}
