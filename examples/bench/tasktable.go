package main

import "strings"

// The SQL of the adapter's tasks table that both databases share.

// taskColumns are the columns of the tasks table, in its order.
const taskColumns = `id, organization_id, source_type, domain, shop_id, variant_id, status, priority, workflow_run_id,
	snapshot_date, recommended_qty, recommended_discount_pct, confidence, evidence, created_at, updated_at`

// taskColumnNames are taskColumns one by one.
var taskColumnNames = strings.Fields(strings.ReplaceAll(taskColumns, ",", " "))

// stagedAsRun is the select list of F3 over the staging table: the staged
// rows as a call of another run writes them, with the run and updated_at
// given as the SQL expressions run and now. Onto the full table every row
// then changes its run and its time, as an update call's rows do, and not
// only rewrites the values it holds.
func stagedAsRun(run, now string) string {
	return `id, organization_id, source_type, domain, shop_id, variant_id, status, priority, ` + run + `,
	snapshot_date, recommended_qty, recommended_discount_pct, confidence, evidence, created_at, ` + now
}

// openKeyConflict is the adapter's conflict target and refresh, shared by
// the F3 floor and the naive baseline on both databases: every column of
// the recommendation, the run and updated_at take the new row's values.
var openKeyConflict = `
	ON CONFLICT (organization_id, domain, shop_id, variant_id)
	    WHERE source_type = 'ACTION_VECTOR' AND status IN ('OPEN', 'IN_PROGRESS')
	DO UPDATE SET ` + refreshFromExcluded("workflow_run_id", "snapshot_date", "recommended_qty",
	"recommended_discount_pct", "confidence", "evidence", "updated_at")

// refreshFromExcluded returns "c = excluded.c" for each column, separated by commas.
func refreshFromExcluded(columns ...string) string {
	for i, c := range columns {
		columns[i] = c + " = excluded." + c
	}
	return strings.Join(columns, ", ")
}
