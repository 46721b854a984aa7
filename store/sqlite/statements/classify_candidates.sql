-- One chunk of pairs: classify every candidate that has an action vector at
-- its domain's latest date. ?1 organization, ?2 min confidence, ?3 domains
-- (JSON array, in batch order), ?4 the chunk's pairs (JSON array of [shop,
-- variant]), ?5 place of the chunk's first pair, ?6 pairs in the batch, ?7
-- whether every candidate keeps a row (the call lists its outcomes), ?8 the
-- snapshot date every domain is read at, or NULL for each domain's latest,
-- ?9 the proposed ids of the chunk's candidates (16 bytes each, domain by
-- domain, the chunk's pairs in its order), ?10 pairs in the chunk.
--
-- Pairs are looked up in primary-key order, (variant, shop), one range scan
-- each for all domains from the earliest of their latest dates; CROSS JOIN
-- keeps SQLite to that order. An eligible candidate gets a row of its own;
-- unless ?7, the others only add one to the tally of their outcome, so the
-- table stays the size of what is written. Only eligible rows keep their
-- evidence, the one wide column, and their proposed id.
INSERT INTO temp.actionvector_task_candidate
SELECT CASE WHEN outcome = 2 OR ?7 THEN ord ELSE -1 - outcome END, outcome, domain, shop_id, variant_id, snapshot_date,
       recommended_qty, recommended_discount_pct, confidence, CASE outcome WHEN 2 THEN evidence END, 1,
       CASE outcome WHEN 2 THEN substr(?9, local * 16 + 1, 16) END
FROM (
    WITH latest(domain, di, snapshot_date) AS MATERIALIZED (
        SELECT d.value, d.key, coalesce(?8, (SELECT max(m.snapshot_date) FROM action_vector m
                                             WHERE m.organization_id = ?1 AND m.domain = d.value))
        FROM json_each(?3) d
    ),
    pair(pi, shop_id, variant_id) AS MATERIALIZED (
        SELECT ?5 + j.key, j.value->>0, j.value->>1 FROM json_each(?4) j ORDER BY 3, 2
    )
    SELECT l.di * ?6 + p.pi AS ord, l.di * ?10 + p.pi - ?5 AS local,
           CASE
               WHEN ?2 > 0 AND v.recommendation_confidence < ?2 THEN 0
               WHEN l.domain = 'markdown' AND coalesce(v.recommended_discount_pct, 0) <= 0 THEN 1
               WHEN l.domain <> 'markdown' AND coalesce(v.recommended_qty, 0) <= 0 THEN 1
               ELSE 2
           END AS outcome,
           l.domain, p.shop_id, p.variant_id, v.snapshot_date, v.recommended_qty, v.recommended_discount_pct,
           v.recommendation_confidence AS confidence, v.decision_vector_snapshot AS evidence
    FROM pair p
    CROSS JOIN action_vector v
    CROSS JOIN latest l
    WHERE v.organization_id = ?1 AND v.variant_id = p.variant_id AND v.shop_id = p.shop_id
      AND v.snapshot_date >= (SELECT min(snapshot_date) FROM latest)
      AND l.domain = v.domain AND l.snapshot_date = v.snapshot_date
)
WHERE true
ON CONFLICT (ord) DO UPDATE SET tally = tally + 1
