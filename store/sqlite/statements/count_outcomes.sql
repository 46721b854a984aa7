-- The tallies of suppressed and skipped candidates, the eligible ones, and
-- the tasks created: a candidate created a task exactly when the task now
-- carries the id proposed for it (?1, 16 bytes each, in batch order); an
-- update keeps the open task's id.
SELECT coalesce(sum(c.tally) FILTER (WHERE c.ord = -1), 0),
       coalesce(sum(c.tally) FILTER (WHERE c.ord = -2), 0),
       count(*) FILTER (WHERE c.ord >= 0),
       count(t.id)
FROM temp.actionvector_task_candidate c
LEFT JOIN tasks t ON c.ord >= 0 AND t.id = substr(?1, c.ord * 16 + 1, 16)
