// Package storetest is the conformance suite every TaskStore adapter runs.
// It checks the rules of package taskcreate through the public API
// (taskcreate.Service.CreateTasks and the adapter's own methods), so an
// adapter that passes behaves like every other one.
//
// An adapter's test calls it with a function that returns a fresh, migrated,
// empty store for each test:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Store {
//			s, err := sqlite.Open(t.Context(), ":memory:")
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// Capabilities that need help from the adapter's test (failure injection)
// are declared in Features and passed to RunWith; the suite never asks which
// database it runs on.
package storetest

import (
	"context"
	"testing"

	"github.com/actionvector/tasks/taskcreate"
	"github.com/google/uuid"
)

// Store is what the suite needs of an adapter: the TaskStore port and the
// methods every adapter offers besides it.
type Store interface {
	taskcreate.TaskStore
	Migrate(ctx context.Context) error
	PutActionVectors(ctx context.Context, rows []taskcreate.ActionVector) error
	ListTasks(ctx context.Context, f taskcreate.TaskFilter) ([]taskcreate.Task, error)
	SetTaskStatus(ctx context.Context, organizationID string, id uuid.UUID, st taskcreate.Status) error
	Close() error
}

// Features declares what an adapter's test can arrange for the suite. A nil
// field skips the cases that need it, with a message naming the field.
type Features struct {
	// FailTaskWrites arranges that, from now on, writing (inserting or
	// updating) a task of s whose shop is shopID fails inside the store's
	// transaction, after other candidates of the same call were written.
	FailTaskWrites func(t *testing.T, s Store, shopID string)

	// StallTaskWrites arranges that, from now on, writing a task of s whose
	// shop is shopID blocks inside the store's transaction. reached is
	// closed when such a write has started; release lets a blocked write
	// go on (stores whose statements are cancelled by the context may
	// return a no-op).
	StallTaskWrites func(t *testing.T, s Store, shopID string) (reached <-chan struct{}, release func())
}

// Run runs the whole suite against the stores newStore returns, with no
// optional Features. newStore is called once per test and must return a
// migrated store with no rows, cleaned up by t.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	RunWith(t, newStore, Features{})
}

// RunWith runs the whole suite with the Features the adapter's test provides.
func RunWith(t *testing.T, newStore func(t *testing.T) Store, f Features) {
	t.Helper()
	panic("not implemented")
}
