CREATE TABLE IF NOT EXISTS {{.Tasks}} (
    id                       uuid             NOT NULL{{if not .Citus}} PRIMARY KEY{{end}},
    organization_id          text             NOT NULL,
    source_type              text             NOT NULL CHECK (source_type IN ('ACTION_VECTOR')),
    domain                   text             NOT NULL CHECK (domain IN ('restock', 'rebalance', 'markdown')),
    shop_id                  text             NOT NULL,
    variant_id               text             NOT NULL,
    status                   text             NOT NULL CHECK (status IN ('OPEN', 'IN_PROGRESS', 'DONE', 'DISMISSED')),
    priority                 text             NOT NULL CHECK (priority IN ('LOW', 'MEDIUM', 'HIGH', 'URGENT')),
    workflow_run_id          text             NOT NULL,
    snapshot_date            date             NOT NULL,
    recommended_qty          integer,
    recommended_discount_pct double precision,
    confidence               double precision,
    evidence                 jsonb            NOT NULL,
    created_at               timestamptz      NOT NULL,
    updated_at               timestamptz      NOT NULL{{if .Citus}},
    -- Citus: every unique index holds the distribution column.
    PRIMARY KEY (organization_id, id){{end}}
);

-- At most one open ACTION_VECTOR task per key: the upsert's conflict target.
CREATE UNIQUE INDEX IF NOT EXISTS {{.OpenKeyIndex}}
    ON {{.Tasks}} (organization_id, domain, shop_id, variant_id)
    WHERE source_type = 'ACTION_VECTOR' AND status IN ('OPEN', 'IN_PROGRESS');

CREATE INDEX IF NOT EXISTS {{.RunIndex}}
    ON {{.Tasks}} (organization_id, workflow_run_id);
{{if .Citus}}
-- Each organization's tasks live on the worker holding its action vectors.
SELECT create_distributed_table('{{.Tasks}}', 'organization_id', colocate_with => '{{.ActionVector}}')
WHERE NOT EXISTS (SELECT FROM pg_dist_partition WHERE logicalrelid = '{{.Tasks}}'::regclass);
{{end}}