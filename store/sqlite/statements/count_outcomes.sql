-- After the upsert: the classified candidates by outcome, and the tasks
-- created.
--
-- A candidate created its task exactly when the task carries the id
-- proposed for it (an update keeps the open task's id), so each eligible
-- candidate is checked through the primary key.
SELECT coalesce(sum(c.tally) FILTER (WHERE c.outcome = 0), 0),
       coalesce(sum(c.tally) FILTER (WHERE c.outcome = 1), 0),
       count(*) FILTER (WHERE c.outcome = 2),
       count(t.id)
FROM temp.actionvector_task_candidate c
LEFT JOIN tasks t ON c.outcome = 2 AND t.id = c.id
