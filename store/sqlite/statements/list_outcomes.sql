-- Every classified candidate, with its eligible candidate's open task (see
-- count_outcomes.sql). ?1 organization.
SELECT c.ord, c.outcome, t.id
FROM temp.actionvector_task_candidate c
LEFT JOIN tasks t
    ON c.outcome = 2 AND t.organization_id = ?1 AND t.domain = c.domain AND t.shop_id = c.shop_id
   AND t.variant_id = c.variant_id AND t.source_type = 'ACTION_VECTOR' AND t.status IN ('OPEN', 'IN_PROGRESS')
WHERE c.ord >= 0
