-- The classified candidates by outcome, and their open tasks. ?1 the
-- proposed ids (16 bytes each, in batch order), ?2 organization.
--
-- Each eligible candidate's open task is found by its key. After the
-- upsert, a candidate created its task exactly when the task carries the
-- id proposed for it: an update keeps the open task's id. Before any write
-- (a dry run), an eligible candidate with an open task would update it, and
-- one without would create one.
SELECT coalesce(sum(c.tally) FILTER (WHERE c.outcome = 0), 0),
       coalesce(sum(c.tally) FILTER (WHERE c.outcome = 1), 0),
       count(*) FILTER (WHERE c.outcome = 2),
       count(t.id),
       count(*) FILTER (WHERE t.id = substr(?1, c.ord * 16 + 1, 16))
FROM temp.actionvector_task_candidate c
LEFT JOIN tasks t
    ON c.outcome = 2 AND t.organization_id = ?2 AND t.domain = c.domain AND t.shop_id = c.shop_id
   AND t.variant_id = c.variant_id AND t.source_type = 'ACTION_VECTOR' AND t.status IN ('OPEN', 'IN_PROGRESS')
