-- ?1 status, ?2 now, ?3 organization, ?4 task id.
UPDATE tasks SET status = ?1, updated_at = ?2 WHERE organization_id = ?3 AND id = ?4
