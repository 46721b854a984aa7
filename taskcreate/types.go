package taskcreate

import (
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
func (d Domain) Valid() bool { return slices.Contains([]Domain{Markdown, Rebalance, Restock}, d) }

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

// Success codes: what a successful call did.
const (
	SuccessCodeTasksCreated   = "WORKFLOW_TASKS_CREATED"   // CreateTasks wrote its tasks
	SuccessCodeTasksPreviewed = "WORKFLOW_TASKS_PREVIEWED" // a dry run of CreateTasks or SweepRun: nothing written
	SuccessCodeTasksSwept     = "WORKFLOW_TASKS_SWEPT"     // SweepRun dismissed the run's tasks
)

// Pair is one position of a perimeter: a variant in a shop.
type Pair struct {
	VariantID string
	ShopID    string
}

// Request asks for the tasks of one workflow run. See the package
// documentation for the rules each field must follow.
type Request struct {
	OrganizationID string
	WorkflowRunID  string
	Domains        []Domain
	MinConfidence  float64
	Perimeter      []Pair

	// DryRun classifies and counts exactly as the call would, and writes
	// nothing: the Result says what the call would do, with
	// SuccessCodeTasksPreviewed.
	DryRun bool
	// ReturnOutcomes fills Result.Outcomes: every candidate, in key order,
	// with what the call did with it. At most WithMaxOutcomes candidates
	// (DefaultMaxOutcomes) may ask for it.
	ReturnOutcomes bool
	// RetireStale dismisses the OPEN task of every candidate that is no
	// longer recommended (unmatched, suppressed or skipped), and counts it
	// in Result.Retired. IN_PROGRESS tasks are never retired. A call that
	// would retire more than its budget allows (WithRetireBudget) writes
	// nothing and returns a *RetireBudgetError.
	RetireStale bool
	// MaxRetireFraction, when set, replaces the service's retirement budget
	// for this call: a run that knows most of its recommendations ended.
	// It must be in [0, 1].
	MaxRetireFraction *float64
	// SnapshotDate, when set, is the snapshot every domain is read at,
	// instead of each domain's latest: a replay, or a run that knows which
	// snapshot triggered it. It must be a calendar date, midnight UTC. A
	// date without rows leaves every candidate of the domain unmatched.
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

	// Retired counts the OPEN tasks a RetireStale call dismissed (or a dry
	// run would): each belongs to a suppressed, skipped or unmatched
	// candidate, so Retired <= Suppressed + Skipped + Unmatched.
	Retired int
	// Outcomes lists every candidate in key order (domain, shop, variant)
	// when the request asked for it, and is nil otherwise.
	Outcomes []CandidateOutcome
}

// OutcomeKind is what a call did with a candidate: the count of Result it
// adds to.
type OutcomeKind string

// The outcomes of a candidate.
const (
	OutcomeCreated    OutcomeKind = "created"
	OutcomeUpdated    OutcomeKind = "updated"
	OutcomeSuppressed OutcomeKind = "suppressed"
	OutcomeSkipped    OutcomeKind = "skipped"
	OutcomeUnmatched  OutcomeKind = "unmatched"
)

// CandidateOutcome is what a call did with one candidate.
type CandidateOutcome struct {
	Domain    Domain
	ShopID    string
	VariantID string
	Outcome   OutcomeKind
	// TaskID is the task the call created, updated or retired; uuid.Nil
	// when there is none, and for the task a dry run would create.
	TaskID uuid.UUID
	// Retired says the candidate's OPEN task was dismissed (RetireStale).
	Retired bool
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
