package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"time"

	"github.com/actionvector/tasks/store/sqlite"
	"github.com/actionvector/tasks/taskcreate"
)

// The examples of a task's life beyond creation, on an in-memory store.

// lifecycleStore returns an in-memory store holding restock recommendations
// of org-1 for three positions, and a service on it.
func lifecycleStore(ctx context.Context) (*sqlite.Store, *taskcreate.Service) {
	store, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	putRestock(ctx, store, time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), map[string]int{"sku-1": 12, "sku-2": 5, "sku-3": 8})
	return store, taskcreate.New(store)
}

// putRestock writes a day's restock recommendations in paris-01, a quantity per
// variant.
func putRestock(ctx context.Context, store *sqlite.Store, day time.Time, qty map[string]int) {
	var rows []taskcreate.ActionVector
	for variant, n := range qty {
		rows = append(rows, taskcreate.ActionVector{OrganizationID: "org-1", VariantID: variant, ShopID: "paris-01",
			SnapshotDate: day, Domain: taskcreate.Restock, RecommendedQty: &n, Snapshot: json.RawMessage(`{}`)})
	}
	if err := store.PutActionVectors(ctx, rows); err != nil {
		log.Fatal(err)
	}
}

func restockRequest(run string) taskcreate.Request {
	return taskcreate.Request{OrganizationID: "org-1", WorkflowRunID: run, Domains: []taskcreate.Domain{taskcreate.Restock},
		Perimeter: []taskcreate.Pair{{VariantID: "sku-1", ShopID: "paris-01"}, {VariantID: "sku-2", ShopID: "paris-01"}, {VariantID: "sku-3", ShopID: "paris-01"}}}
}

// A dry run says what the call would do, and writes nothing.
func Example_dryRun() {
	ctx := context.Background()
	store, svc := lifecycleStore(ctx)
	defer store.Close()

	req := restockRequest("run-1")
	req.DryRun = true
	res, err := svc.CreateTasks(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	tasks, err := store.ListTasks(ctx, taskcreate.TaskFilter{OrganizationID: "org-1"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("would create %d (%s); %d tasks written\n", res.Created, res.SuccessCode, len(tasks))
	// Output:
	// would create 3 (WORKFLOW_TASKS_PREVIEWED); 0 tasks written
}

// A newer snapshot stops recommending sku-2: a call that retires stale
// tasks dismisses its open task, and says which one, candidate by candidate.
func Example_retireStale() {
	ctx := context.Background()
	store, svc := lifecycleStore(ctx)
	defer store.Close()
	if _, err := svc.CreateTasks(ctx, restockRequest("run-1")); err != nil {
		log.Fatal(err)
	}

	putRestock(ctx, store, time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC), map[string]int{"sku-1": 10, "sku-2": 0, "sku-3": 8})
	req := restockRequest("run-2")
	req.RetireStale, req.ReturnOutcomes = true, true
	res, err := svc.CreateTasks(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("updated %d, skipped %d, retired %d\n", res.Updated, res.Skipped, res.Retired)
	for _, o := range res.Outcomes {
		fmt.Println(o.VariantID, o.Outcome, "retired:", o.Retired)
	}
	// Output:
	// updated 2, skipped 1, retired 1
	// sku-1 updated retired: false
	// sku-2 skipped retired: true
	// sku-3 updated retired: false
}

// The cron job that declares a run dead dismisses the OPEN tasks that only
// it vouches for: those no later run refreshed.
func Example_sweepRun() {
	ctx := context.Background()
	store, svc := lifecycleStore(ctx)
	defer store.Close()
	dead, live := restockRequest("run-dead"), restockRequest("run-live")
	live.Perimeter = live.Perimeter[:1] // run-live takes sku-1 over
	for _, req := range []taskcreate.Request{dead, live} {
		if _, err := svc.CreateTasks(ctx, req); err != nil {
			log.Fatal(err)
		}
	}

	res, err := svc.SweepRun(ctx, taskcreate.SweepRequest{OrganizationID: "org-1", WorkflowRunID: "run-dead"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("dismissed %d (%s)\n", res.Dismissed, res.SuccessCode)
	// Output:
	// dismissed 2 (WORKFLOW_TASKS_SWEPT)
}
