package store

import (
	"cmp"
	"encoding/json"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Domain is the kind of recommendation an action vector carries.
type Domain string

// The three action-vector domains.
const (
	Restock   Domain = "restock"   // reorder RecommendedQty units
	Rebalance Domain = "rebalance" // transfer RecommendedQty units between shops
	Markdown  Domain = "markdown"  // discount by RecommendedDiscountPct percent
)

// Domains lists every valid Domain in key order.
func Domains() []Domain { return []Domain{Markdown, Rebalance, Restock} }

// Valid reports whether d is one of the three domains.
func (d Domain) Valid() bool { return slices.Contains(Domains(), d) }

// Status is the lifecycle state of a task.
type Status string

// Task statuses. OPEN and IN_PROGRESS tasks are open: CreateTasks refreshes
// them. DONE and DISMISSED tasks are history: CreateTasks never touches them.
const (
	StatusOpen       Status = "OPEN"
	StatusInProgress Status = "IN_PROGRESS"
	StatusDone       Status = "DONE"
	StatusDismissed  Status = "DISMISSED"
)

// Valid reports whether s is one of the four statuses.
func (s Status) Valid() bool {
	return slices.Contains([]Status{StatusOpen, StatusInProgress, StatusDone, StatusDismissed}, s)
}

// IsOpen reports whether a task in status s is open (OPEN or IN_PROGRESS).
func (s Status) IsOpen() bool { return s == StatusOpen || s == StatusInProgress }

// Priority is the urgency given to a new task.
type Priority string

// Task priorities.
const (
	PriorityLow    Priority = "LOW"
	PriorityMedium Priority = "MEDIUM"
	PriorityHigh   Priority = "HIGH"
	PriorityUrgent Priority = "URGENT"
)

// Valid reports whether p is one of the four priorities.
func (p Priority) Valid() bool {
	return slices.Contains([]Priority{PriorityLow, PriorityMedium, PriorityHigh, PriorityUrgent}, p)
}

// Pair is one position of a perimeter: a variant in a shop.
type Pair struct {
	VariantID string
	ShopID    string
}

// ComparePairs orders pairs by (ShopID, VariantID), the key order of
// candidates within a domain.
func ComparePairs(a, b Pair) int {
	if c := cmp.Compare(a.ShopID, b.ShopID); c != 0 {
		return c
	}
	return cmp.Compare(a.VariantID, b.VariantID)
}

// OutcomeKind is what a call did with a candidate: the count it adds to.
type OutcomeKind string

// The outcomes of a candidate.
const (
	OutcomeCreated    OutcomeKind = "created"
	OutcomeUpdated    OutcomeKind = "updated"
	OutcomeSuppressed OutcomeKind = "suppressed"
	OutcomeSkipped    OutcomeKind = "skipped"
	OutcomeUnmatched  OutcomeKind = "unmatched"
)

// ActionVector is one daily recommendation of the data platform for a
// position (organization, variant, shop) in a domain.
type ActionVector struct {
	OrganizationID string
	VariantID      string
	ShopID         string
	// SnapshotDate is a calendar date: its year, month and day in its own
	// location are kept, the clock time is dropped.
	SnapshotDate           time.Time
	Domain                 Domain
	RecommendedQty         *int     // restock and rebalance: units
	RecommendedDiscountPct *float64 // markdown: percent
	Confidence             *float64 // nil: unknown, never suppressed
	// Snapshot is the JSON "why" of the recommendation (decision_vector_snapshot).
	Snapshot json.RawMessage
}

// Task is one ACTION_VECTOR task for a person to act on.
type Task struct {
	ID                     uuid.UUID
	OrganizationID         string
	Domain                 Domain
	ShopID                 string
	VariantID              string
	Status                 Status
	Priority               Priority
	WorkflowRunID          string // the run that created or last refreshed the task
	SnapshotDate           time.Time
	RecommendedQty         *int
	RecommendedDiscountPct *float64
	Confidence             *float64
	Evidence               json.RawMessage // copy of the action vector's Snapshot
	CreatedAt              time.Time
	UpdatedAt              time.Time
}

// TaskFilter selects tasks of one organization for ListTasks.
type TaskFilter struct {
	OrganizationID string
	WorkflowRunID  string   // optional: only tasks owned by this run
	Statuses       []Status // optional: only tasks in one of these statuses
}

// DateOf returns the calendar date of t (its year, month and day in its own
// location) as midnight UTC, the form stores return dates in.
func DateOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
