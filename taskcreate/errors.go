package taskcreate

import "github.com/actionvector/tasks/store"

// The errors a caller matches with errors.Is. Each is package store's
// value of the same name: a store returns them, and a Service passes them
// on wrapped.
var (
	// ErrInvalidRequest is matched by every validation failure, a
	// *ValidationError.
	ErrInvalidRequest = store.ErrInvalidRequest
	// ErrTransient is matched by store errors a retry may cure:
	// serialization failures, deadlocks, a busy database. CreateTasks
	// retries them (WithRetry) before it returns one.
	ErrTransient = store.ErrTransient
	// ErrOutcomeUnknown is matched when a call cannot know whether its
	// work was committed: the connection was lost while the transaction
	// committed. It is the one error after which tasks may have been
	// written. Repeating the same call is safe: it refreshes what a
	// committed first attempt created. Answer it apart from other failures
	// (taskhttp: 500 OUTCOME_UNKNOWN) and never retry it blindly as
	// transient.
	ErrOutcomeUnknown = store.ErrOutcomeUnknown
	// ErrTaskNotFound is returned by a store's SetTaskStatus when the
	// organization has no task with that id.
	ErrTaskNotFound = store.ErrTaskNotFound
	// ErrOpenTaskExists is returned by a store's SetTaskStatus when
	// reopening a task would give its key a second open task.
	ErrOpenTaskExists = store.ErrOpenTaskExists
	// ErrRetireBudgetExceeded is matched by a *RetireBudgetError.
	ErrRetireBudgetExceeded = store.ErrRetireBudgetExceeded
)

type (
	// ValidationError lists every problem found in an input, one
	// FieldError each, named by JSON path ("perimeter[3].shopId"); it
	// matches ErrInvalidRequest. Its Summary is one line for people, its
	// Code the code of the whole error.
	ValidationError = store.ValidationError
	// FieldError is one problem with one field of the input: its Field
	// (a JSON path), its Code (CodeMissingRequiredField or
	// CodeValidationError) and a Message for people.
	FieldError = store.FieldError
	// RetireBudgetError is returned by a RetireStale call (a dry run too)
	// that would retire more of its candidates' OPEN tasks than its budget
	// allows: WouldRetire > Budget x Open and WouldRetire >
	// RetireGuardMinimum. The call wrote nothing. It matches
	// ErrRetireBudgetExceeded.
	RetireBudgetError = store.RetireBudgetError
)

// Field error codes. Clients branch on them, never on messages.
const (
	CodeMissingRequiredField = store.CodeMissingRequiredField
	CodeValidationError      = store.CodeValidationError
)

// MaxIDBytes is the longest identifier (organization, run, variant, shop)
// accepted, in bytes.
const MaxIDBytes = store.MaxIDBytes

// MaxFieldErrors is the most FieldErrors one ValidationError lists, here and
// in taskhttp's decoder; a longer list is cut, and its last entry (with the
// empty field) says so.
const MaxFieldErrors = store.MaxFieldErrors

// RetireGuardMinimum is the most tasks a call may always retire, whatever
// its budget, so that small perimeters are never blocked.
const RetireGuardMinimum = store.RetireGuardMinimum
