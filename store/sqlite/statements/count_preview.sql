-- A dry run's count_outcomes.sql, with nothing written: the classified
-- candidates by outcome, and the eligible ones that have an open task,
-- found by its key, which they would update (the others would create one).
-- ?1 organization.
SELECT coalesce(sum(c.tally) FILTER (WHERE c.outcome = 0), 0),
       coalesce(sum(c.tally) FILTER (WHERE c.outcome = 1), 0),
       count(*) FILTER (WHERE c.outcome = 2),
       count(t.id)
FROM temp.actionvector_task_candidate c
LEFT JOIN tasks t
    ON c.outcome = 2 AND t.organization_id = ?1 AND t.domain = c.domain AND t.shop_id = c.shop_id
   AND t.variant_id = c.variant_id AND t.source_type = 'ACTION_VECTOR' AND t.status IN ('OPEN', 'IN_PROGRESS')
