-- A dry run's retire_stale.sql, with stale_tasks.sql before it: the tasks
-- it would dismiss. ?2 and ?3 are unused.
SELECT id, domain, shop_id, variant_id FROM stale
