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
//
// Besides cases for each rule, the suite replays random datasets against an
// in-memory model of the rules (seeded, so a failure names the seed that
// reproduces it), runs overlapping calls from many goroutines, and makes one
// call with 51,000 candidates. It also records a history of concurrent
// creates, sweeps, status changes and reads and checks with porcupine that
// it is linearizable key by key. Under testing.Short or the race detector the
// random replay runs fewer rounds.
package storetest

import (
	"context"
	"database/sql"
	"testing"
	"time"

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

	// DelayCommits arranges that, from now on, every transaction of s that
	// wrote a task takes d longer to commit, after its work is done: it
	// widens the window in which a cancelled context meets a commit.
	DelayCommits func(t *testing.T, s Store, d time.Duration)

	// WithTx returns s bound to tx, a transaction of the caller's begun on
	// the pool of s, which s returns from a method DB() *sql.DB.
	WithTx func(s Store, tx *sql.Tx) Store

	// CallerTxs are the other kinds of caller's transaction a store runs
	// in, such as a driver's own, by name. The caller-transaction case
	// runs with WithTx and with each of them.
	CallerTxs map[string]BeginTx
}

// BeginTx begins a transaction of the caller's on the database of s and
// returns a store like s bound to it, and end, which commits the
// transaction or rolls it back.
type BeginTx func(ctx context.Context, s Store) (bound Store, end func(commit bool) error, err error)

// Run runs the whole suite against the stores newStore returns, with no
// optional Features. newStore is called at least once per case, from
// parallel subtests, and must return a migrated store with no rows, cleaned
// up by t.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	RunWith(t, newStore, Features{})
}

// RunWith runs the whole suite with the Features the adapter's test provides.
//
// Subtests are grouped by rule; the groups run one after the other and the
// cases of a group in parallel, so newStore must be safe for concurrent use.
// RunWith returns when every case has finished.
func RunWith(t *testing.T, newStore func(t *testing.T) Store, f Features) {
	t.Helper()
	s := suite{newStore: newStore, features: f}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.run(t, s)
				})
			}
		})
	}
}

// testCase is one subtest; it makes its own stores with suite.fixture.
type testCase struct {
	name string
	run  func(t *testing.T, s suite)
}

// groups lists every case by the rule it checks, in the order of the rules
// in the package documentation of taskcreate.
var groups = []struct {
	name  string
	cases []testCase
}{
	{"Snapshot", []testCase{
		{"LatestSnapshotIsRead", testLatestSnapshotIsRead},
		{"OlderSnapshotOnlyIsUnmatched", testOlderSnapshotOnlyIsUnmatched},
		{"DomainsHaveTheirOwnLatestDate", testDomainsHaveTheirOwnLatestDate},
		{"OtherOrganizationDoesNotMoveLatestDate", testOtherOrganizationDoesNotMoveLatestDate},
		{"SnapshotDateIsCalendarDay", testSnapshotDateIsCalendarDay},
	}},
	{"Outcome", []testCase{
		{"ExactCounts", testExactCounts},
		{"NullConfidenceIsNeverSuppressed", testNullConfidenceIsNeverSuppressed},
		{"ConfidenceEqualToThresholdIsKept", testConfidenceEqualToThresholdIsKept},
		{"ZeroMinConfidenceDisablesFiltering", testZeroMinConfidenceDisablesFiltering},
		{"SuppressedBeforeSkipped", testSuppressedBeforeSkipped},
		{"SkippedWithoutQuantity", testSkippedWithoutQuantity},
		{"SkippedWithoutDiscount", testSkippedWithoutDiscount},
		{"DuplicatesAreCollapsed", testDuplicatesAreCollapsed},
		{"EmptyPerimeter", testEmptyPerimeter},
		{"IdentifiersAreOpaque", testIdentifiersAreOpaque},
	}},
	{"Upsert", []testCase{
		{"CreatesOpenTasksWithProposedIDs", testCreatesOpenTasksWithProposedIDs},
		{"NewTasksTakeTheServicePriority", testNewTasksTakeTheServicePriority},
		{"UpdatesOpenTask", testUpdatesOpenTask},
		{"HistoryIsLeftAlone", testHistoryIsLeftAlone},
		{"OwnershipMovesToNewestRun", testOwnershipMovesToNewestRun},
		{"Idempotent", testIdempotent},
		{"PortUsesTheBatch", testPortUsesTheBatch},
		{"PortUsesARunOfIDs", testPortUsesARunOfIDs},
	}},
	{"Isolation", []testCase{
		{"TenantIsolation", testTenantIsolation},
	}},
	{"Atomicity", []testCase{
		{"FailedWriteRollsBack", testFailedWriteRollsBack},
		{"CancelDuringWrite", testCancelDuringWrite},
		{"CancelAnywhere", testCancelAnywhere},
		{"CancelledBeforeCall", testCancelledBeforeCall},
		{"CancelledContextAtPort", testCancelledContextAtPort},
		{"InvalidRequestWritesNothing", testInvalidRequestWritesNothing},
		{"CallerTransaction", testCallerTransaction},
	}},
	{"Concurrency", []testCase{
		{"OverlappingCalls", testConcurrentCalls},
	}},
	{"Linearizability", []testCase{
		{"PerKey", testLinearizability},
	}},
	{"Scale", []testCase{
		{"LargeBatch", testLargeBatch},
	}},
	{"Differential", []testCase{
		{"AgainstModel", testDifferential},
	}},
	{"Lifecycle", []testCase{
		{"DryRunWritesNothing", testDryRunWritesNothing},
		{"DryRunHoldsNoLock", testDryRunHoldsNoLock},
		{"OutcomesPerCandidate", testOutcomesPerCandidate},
		{"RetireStale", testRetireStale},
		{"SweepRun", testSweepRun},
		{"SweepRacesCreate", testSweepRacesCreate},
	}},
	{"Guard", []testCase{
		{"RetireBudgetRefuses", testRetireBudgetRefuses},
		{"RetireBudgetLimits", testRetireBudgetLimits},
		{"SnapshotDateIsPinned", testSnapshotDateIsPinned},
	}},
	{"ListTasks", []testCase{
		{"OrderIsByteOrder", testListOrderIsByteOrder},
		{"OrderWithinKey", testListOrderWithinKey},
		{"Filters", testListFilters},
		{"RejectsInvalidFilter", testListRejectsInvalidFilter},
	}},
	{"SetTaskStatus", []testCase{
		{"ChangesOnlyStatus", testSetStatusChangesOnlyStatus},
		{"UnknownTask", testSetStatusOfUnknownTask},
		{"OtherOrganizationsTask", testSetStatusOfOtherOrganizationsTask},
		{"ReopenWhileAnotherTaskIsOpen", testReopenWhileAnotherTaskIsOpen},
		{"RejectsInvalidInput", testSetStatusRejectsInvalidInput},
	}},
	{"PutActionVectors", []testCase{
		{"UpsertsOnPrimaryKey", testPutUpsertsOnPrimaryKey},
		{"SamePrimaryKeyTwiceInOneCall", testPutSamePrimaryKeyTwiceInOneCall},
		{"RejectsInvalidRows", testPutRejectsInvalidRows},
		{"Nothing", testPutNothing},
	}},
	{"Timestamps", []testCase{
		{"RoundTrip", testTimestampsRoundTrip},
	}},
	{"Migrate", []testCase{
		{"Idempotent", testMigrateIsIdempotent},
	}},
}
