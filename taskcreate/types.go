package taskcreate

import (
	"time"

	"github.com/google/uuid"

	"github.com/actionvector/tasks/store"
)

// Domain is the kind of recommendation: Restock, Rebalance or Markdown.
type Domain = store.Domain

// Status is the lifecycle state of a task.
type Status = store.Status

// Priority is the urgency given to a new task.
type Priority = store.Priority

// Pair is one position of a perimeter: a variant in a shop.
type Pair = store.Pair

// ActionVector is one daily recommendation for a position in a domain.
type ActionVector = store.ActionVector

// Task is one ACTION_VECTOR task for a person to act on.
type Task = store.Task

// TaskFilter selects the tasks a store's ListTasks returns.
type TaskFilter = store.TaskFilter

// OutcomeKind is what a call did with a candidate.
type OutcomeKind = store.OutcomeKind

// TaskStore is the port a Service runs on; package store documents it.
type TaskStore = store.TaskStore

// The three action-vector domains.
const (
	Restock   = store.Restock   // reorder RecommendedQty units
	Rebalance = store.Rebalance // transfer RecommendedQty units between shops
	Markdown  = store.Markdown  // discount by RecommendedDiscountPct percent
)

// Task statuses: OPEN and IN_PROGRESS are open, DONE and DISMISSED history.
const (
	StatusOpen       = store.StatusOpen
	StatusInProgress = store.StatusInProgress
	StatusDone       = store.StatusDone
	StatusDismissed  = store.StatusDismissed
)

// Task priorities.
const (
	PriorityLow    = store.PriorityLow
	PriorityMedium = store.PriorityMedium
	PriorityHigh   = store.PriorityHigh
	PriorityUrgent = store.PriorityUrgent
)

// The outcomes of a candidate.
const (
	OutcomeCreated    = store.OutcomeCreated
	OutcomeUpdated    = store.OutcomeUpdated
	OutcomeSuppressed = store.OutcomeSuppressed
	OutcomeSkipped    = store.OutcomeSkipped
	OutcomeUnmatched  = store.OutcomeUnmatched
)

// Domains lists every valid Domain in key order.
func Domains() []Domain { return store.Domains() }

// Success codes: what a successful call did.
const (
	SuccessCodeTasksCreated   = "WORKFLOW_TASKS_CREATED"   // CreateTasks wrote its tasks
	SuccessCodeTasksPreviewed = "WORKFLOW_TASKS_PREVIEWED" // a dry run of CreateTasks or SweepRun: nothing written
	SuccessCodeTasksSwept     = "WORKFLOW_TASKS_SWEPT"     // SweepRun dismissed the run's tasks
)

// Request asks for the tasks of one workflow run. Identifiers are required,
// at most MaxIDBytes of UTF-8 without control characters; Domains holds at
// least one domain; MinConfidence is in [0, 1], 0 filtering nothing;
// duplicate pairs and domains are collapsed.
type Request struct {
	OrganizationID string
	WorkflowRunID  string
	Domains        []Domain
	MinConfidence  float64
	Perimeter      []Pair

	// DryRun counts as the call would, writes nothing and answers
	// SuccessCodeTasksPreviewed.
	DryRun bool
	// ReturnOutcomes fills Result.Outcomes, for at most WithMaxOutcomes
	// candidates.
	ReturnOutcomes bool
	// RetireStale dismisses the OPEN task of every candidate no longer
	// recommended (unmatched, suppressed or skipped), within the budget.
	RetireStale bool
	// MaxRetireFraction, in [0, 1], replaces the budget for this call.
	MaxRetireFraction *float64
	// SnapshotDate, a midnight UTC, is read in every domain instead of
	// each domain's latest snapshot.
	SnapshotDate time.Time
}

// Result counts what CreateTasks did with each candidate (one pair in one
// domain). Created+Updated+Suppressed+Skipped+Unmatched equals the number of
// candidates.
type Result struct {
	WorkflowRunID string
	SuccessCode   string
	Created       int
	Updated       int
	Suppressed    int
	Skipped       int
	Unmatched     int

	Retired  int                // OPEN tasks RetireStale dismissed (or a dry run would)
	Outcomes []CandidateOutcome // every candidate in key order, if the request asked
}

// CandidateOutcome is what a call did with one candidate.
type CandidateOutcome struct {
	Domain    Domain
	ShopID    string
	VariantID string
	Outcome   OutcomeKind
	TaskID    uuid.UUID // created, updated or retired; uuid.Nil if none, or not yet created
	Retired   bool      // the candidate's OPEN task was dismissed
}

// SweepRequest asks to dismiss what a dead workflow run leaves behind.
type SweepRequest struct {
	OrganizationID string
	WorkflowRunID  string
	DryRun         bool // count, and write nothing
}

// SweepResult says how many tasks SweepRun dismissed, or would have in a
// dry run.
type SweepResult struct {
	WorkflowRunID string
	SuccessCode   string // SuccessCodeTasksSwept, or SuccessCodeTasksPreviewed for a dry run
	Dismissed     int
}
