package taskcreate

import "github.com/actionvector/tasks/store"

// The errors a caller matches with errors.Is: package store's values,
// which the stores return and a Service passes on wrapped.
var (
	ErrInvalidRequest       = store.ErrInvalidRequest       // every validation failure, a *ValidationError
	ErrTransient            = store.ErrTransient            // a failure a retry may cure; CreateTasks retries it first
	ErrOutcomeUnknown       = store.ErrOutcomeUnknown       // the commit's fate is unknown: the one error after which tasks may exist
	ErrTaskNotFound         = store.ErrTaskNotFound         // SetTaskStatus: the organization has no task with that id
	ErrOpenTaskExists       = store.ErrOpenTaskExists       // SetTaskStatus: reopening would give the key a second open task
	ErrRetireBudgetExceeded = store.ErrRetireBudgetExceeded // a *RetireBudgetError
)

type (
	// ValidationError lists every problem of an input, one FieldError
	// each; it matches ErrInvalidRequest.
	ValidationError = store.ValidationError
	// FieldError is one problem: its Field (a JSON path), its Code and a
	// Message for people.
	FieldError = store.FieldError
	// RetireBudgetError refuses a RetireStale call that would retire more
	// OPEN tasks than its budget allows; the call wrote nothing.
	RetireBudgetError = store.RetireBudgetError
)

// Field error codes. Clients branch on them, never on messages.
const (
	CodeMissingRequiredField = store.CodeMissingRequiredField
	CodeValidationError      = store.CodeValidationError
)

// Bounds of the input.
const (
	MaxIDBytes         = store.MaxIDBytes         // the longest identifier, in bytes
	MaxFieldErrors     = store.MaxFieldErrors     // the most FieldErrors one ValidationError lists
	RetireGuardMinimum = store.RetireGuardMinimum // the tasks a call may always retire, whatever its budget
)
