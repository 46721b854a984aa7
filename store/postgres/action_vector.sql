-- Created only when absent: in production the table is a read-only mirror
-- the data platform keeps, which this library never alters.
CREATE TABLE IF NOT EXISTS {{.ActionVector}} (
    organization_id           text             NOT NULL,
    variant_id                text             NOT NULL,
    shop_id                   text             NOT NULL,
    snapshot_date             date             NOT NULL,
    domain                    text             NOT NULL CHECK (domain IN ('restock', 'rebalance', 'markdown')),
    recommended_qty           integer,
    recommended_discount_pct  double precision,
    recommendation_confidence double precision,
    decision_vector_snapshot  jsonb            NOT NULL,
    PRIMARY KEY (organization_id, variant_id, shop_id, snapshot_date, domain)
);

-- Serves "latest snapshot date per (organization, domain)" with one seek.
CREATE INDEX IF NOT EXISTS {{.LatestIndex}}
    ON {{.ActionVector}} (organization_id, domain, snapshot_date);
{{if .Citus}}
-- Distributed by organization: a call reads one worker's rows.
SELECT create_distributed_table('{{.ActionVector}}', 'organization_id')
WHERE NOT EXISTS (SELECT FROM pg_dist_partition WHERE logicalrelid = '{{.ActionVector}}'::regclass);
{{end}}