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

// An in-memory database is a full store that lives as long as the Store:
// the way to test a service that creates tasks, with no server and no files.
func Example_inMemory() {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	qty, confidence := 12, 0.82
	err = store.PutActionVectors(ctx, []taskcreate.ActionVector{{
		OrganizationID: "org-1", VariantID: "sku-42", ShopID: "paris-01",
		SnapshotDate: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), Domain: taskcreate.Restock,
		RecommendedQty: &qty, Confidence: &confidence, Snapshot: json.RawMessage(`{"daysOfCover":2.5}`),
	}})
	if err != nil {
		log.Fatal(err)
	}

	svc := taskcreate.New(store)
	res, err := svc.CreateTasks(ctx, taskcreate.Request{
		OrganizationID: "org-1", WorkflowRunID: "run-1",
		Domains: []taskcreate.Domain{taskcreate.Restock}, MinConfidence: 0.6,
		Perimeter: []taskcreate.Pair{{VariantID: "sku-42", ShopID: "paris-01"}, {VariantID: "sku-7", ShopID: "paris-01"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("created=%d updated=%d unmatched=%d\n", res.Created, res.Updated, res.Unmatched)

	tasks, err := store.ListTasks(ctx, taskcreate.TaskFilter{OrganizationID: "org-1"})
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range tasks {
		fmt.Println(t.Domain, t.ShopID, t.VariantID, t.Status, *t.RecommendedQty, string(t.Evidence))
	}
	// Output:
	// created=1 updated=0 unmatched=1
	// restock paris-01 sku-42 OPEN 12 {"daysOfCover":2.5}
}
