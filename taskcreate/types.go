package taskcreate

import (
	"time"

	"github.com/google/uuid"

	"github.com/actionvector/tasks/store"
)

// The types a call is made of. They are defined in package store, the
// adapters' contract, and named here for callers: taskcreate.Domain and
// store.Domain are one type.
type (
	// Domain is the kind of recommendation an action vector carries:
	// Restock, Rebalance or Markdown.
	Domain = store.Domain
	// Status is the lifecycle state of a task: StatusOpen,
	// StatusInProgress, StatusDone or StatusDismissed.
	Status = store.Status
	// Priority is the urgency given to a new task.
	Priority = store.Priority
	// Pair is one position of a perimeter: a variant in a shop.
	Pair = store.Pair
	// ActionVector is one daily recommendation of the data platform for a
	// position (organization, variant, shop) in a domain.
	ActionVector = store.ActionVector
	// Task is one ACTION_VECTOR task for a person to act on.
	Task = store.Task
	// TaskFilter selects tasks of one organization for a store's ListTasks.
	TaskFilter = store.TaskFilter
	// OutcomeKind is what a call did with a candidate: the count of
	// Result it adds to.
	OutcomeKind = store.OutcomeKind
	// TaskStore is the port a Service runs on; store documents what an
	// adapter must do, and store/sqlite and store/postgres implement it.
	TaskStore = store.TaskStore
)

// The three action-vector domains.
const (
	Restock   = store.Restock   // reorder RecommendedQty units
	Rebalance = store.Rebalance // transfer RecommendedQty units between shops
	Markdown  = store.Markdown  // discount by RecommendedDiscountPct percent
)

// Task statuses. OPEN and IN_PROGRESS tasks are open: CreateTasks refreshes
// them. DONE and DISMISSED tasks are history: CreateTasks never touches them.
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
