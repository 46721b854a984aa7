package storetest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/store/sqlite"
	"github.com/actionvector/tasks/storetest"
	"github.com/actionvector/tasks/taskcreate"
)

// countingStore is an adapter: it implements the two methods of the port,
// store.TaskStore, by counting the calls and handing them to a SQLite
// store, which also serves the other methods storetest.Store names.
type countingStore struct {
	*sqlite.Store
	materialized, swept atomic.Int64
}

var _ storetest.Store = (*countingStore)(nil)

func (s *countingStore) MaterializeTasks(ctx context.Context, b *store.Batch) (store.Outcome, error) {
	s.materialized.Add(1)
	return s.Store.MaterializeTasks(ctx, b)
}

func (s *countingStore) SweepTasks(ctx context.Context, sw *store.Sweep) (int, error) {
	s.swept.Add(1)
	return s.Store.SweepTasks(ctx, sw)
}

// openCountingStore returns a fresh, migrated, empty countingStore.
func openCountingStore(ctx context.Context) (*countingStore, error) {
	s, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		return nil, err
	}
	return &countingStore{Store: s}, nil
}

// An adapter's test hands the suite a function that returns a fresh,
// migrated, empty store for each case; go test then runs every rule, the
// random replay against the model and the concurrency checks on it. The
// service itself needs nothing but the port.
func Example() {
	// In the adapter's package: func TestConformance(t *testing.T).
	testConformance := func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) storetest.Store {
			s, err := openCountingStore(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	}
	_ = testConformance

	ctx := context.Background()
	s, err := openCountingStore(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	day, qty := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), 12
	row := taskcreate.ActionVector{OrganizationID: "org-1", VariantID: "sku-42", ShopID: "paris-01", SnapshotDate: day,
		Domain: taskcreate.Restock, RecommendedQty: &qty, Snapshot: json.RawMessage(`{}`)}
	if err := s.PutActionVectors(ctx, []taskcreate.ActionVector{row}); err != nil {
		log.Fatal(err)
	}

	svc := taskcreate.New(s)
	req := taskcreate.Request{OrganizationID: "org-1", WorkflowRunID: "run-1", Domains: []taskcreate.Domain{taskcreate.Restock}}
	req.Perimeter = []taskcreate.Pair{{VariantID: row.VariantID, ShopID: row.ShopID}}
	res, err := svc.CreateTasks(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	swept, err := svc.SweepRun(ctx, taskcreate.SweepRequest{OrganizationID: "org-1", WorkflowRunID: "run-1"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("created %d, dismissed %d\n", res.Created, swept.Dismissed)
	fmt.Printf("MaterializeTasks called %d, SweepTasks called %d\n", s.materialized.Load(), s.swept.Load())
	// Output:
	// created 1, dismissed 1
	// MaterializeTasks called 1, SweepTasks called 1
}
