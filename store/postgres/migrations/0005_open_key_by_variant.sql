-- At most one open ACTION_VECTOR task per key, the upsert's conflict target,
-- in the lock order (0004).
CREATE UNIQUE INDEX IF NOT EXISTS {{.OpenKeyIndex}}
    ON {{.Tasks}} (organization_id, variant_id COLLATE "C", shop_id COLLATE "C", domain COLLATE "C")
    WHERE source_type = 'ACTION_VECTOR' AND status IN ('OPEN', 'IN_PROGRESS')
