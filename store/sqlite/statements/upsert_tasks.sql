-- The eligible candidates, upserted in key order, as the Batch asks. ?1
-- organization, ?2 priority of new tasks, ?3 workflow run, ?4 now; each
-- candidate brings the id proposed for it.
INSERT INTO tasks (id, organization_id, source_type, domain, shop_id, variant_id, status, priority,
                   workflow_run_id, snapshot_date, recommended_qty, recommended_discount_pct,
                   confidence, evidence, created_at, updated_at)
SELECT id, ?1, 'ACTION_VECTOR', domain, shop_id, variant_id, 'OPEN', ?2,
       ?3, snapshot_date, recommended_qty, recommended_discount_pct,
       confidence, evidence, ?4, ?4
FROM temp.actionvector_task_candidate
WHERE ord >= 0 AND outcome = 2
ORDER BY ord
ON CONFLICT (organization_id, domain, shop_id, variant_id)
    WHERE source_type = 'ACTION_VECTOR' AND status IN ('OPEN', 'IN_PROGRESS')
DO UPDATE SET workflow_run_id          = excluded.workflow_run_id,
              snapshot_date            = excluded.snapshot_date,
              recommended_qty          = excluded.recommended_qty,
              recommended_discount_pct = excluded.recommended_discount_pct,
              confidence               = excluded.confidence,
              evidence                 = excluded.evidence,
              updated_at               = excluded.updated_at
