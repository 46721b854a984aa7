package store

import (
	"errors"
	"fmt"
)

// The errors of the contract. taskcreate names each by the same name, with
// the same value, for its callers to match; their texts say "taskcreate"
// because a caller meets them there.
var (
	// ErrTransient is matched by errors.Is for store errors a retry may
	// cure: serialization failures, deadlocks, a busy database. An adapter
	// marks them with MarkTransient; taskcreate retries them.
	ErrTransient = errors.New("taskcreate: transient store error")

	// ErrOutcomeUnknown is matched by errors.Is when a call cannot know
	// whether its work was committed: the connection to the database was
	// lost while the transaction committed, or the COMMIT failed in a way
	// that does not prove a rollback. It is the one error after which
	// tasks may have been written. An adapter marks it with
	// MarkOutcomeUnknown; taskcreate never retries it.
	ErrOutcomeUnknown = errors.New("taskcreate: outcome unknown: the connection was lost while committing")

	// ErrTaskNotFound is returned by a store's SetTaskStatus when the
	// organization has no task with that id.
	ErrTaskNotFound = errors.New("taskcreate: task not found")

	// ErrOpenTaskExists is returned by a store's SetTaskStatus when
	// reopening a task would give its key a second open task.
	ErrOpenTaskExists = errors.New("taskcreate: an open task already exists for this key")

	// ErrRetireBudgetExceeded is matched by errors.Is for a
	// *RetireBudgetError.
	ErrRetireBudgetExceeded = errors.New("taskcreate: retirement budget exceeded")
)

// MarkTransient wraps err so that errors.Is(err, ErrTransient) is true while
// errors.Is and errors.As still reach err and the errors it wraps. It returns
// nil for a nil err.
func MarkTransient(err error) error {
	if err == nil {
		return nil
	}
	return markedError{err: err, mark: ErrTransient}
}

// MarkOutcomeUnknown wraps err, an error of a commit whose result cannot be
// known, so that errors.Is(err, ErrOutcomeUnknown) is true while errors.Is
// and errors.As still reach err. It returns nil for a nil err.
func MarkOutcomeUnknown(err error) error {
	if err == nil {
		return nil
	}
	return markedError{err: err, mark: ErrOutcomeUnknown, prefix: "outcome unknown: "}
}

// markedError is err, matching mark with errors.Is too, its text prefixed.
type markedError struct {
	err, mark error
	prefix    string
}

func (e markedError) Error() string        { return e.prefix + e.err.Error() }
func (e markedError) Unwrap() error        { return e.err }
func (e markedError) Is(target error) bool { return target == e.mark }

// RetireGuardMinimum is the most tasks a call may always retire, whatever
// its budget, so that small perimeters are never blocked.
const RetireGuardMinimum = 20

// RetireBudgetError is returned by a RetireStale call (a dry run too) that
// would retire more of the candidates' OPEN tasks than its budget allows,
// as a snapshot the data platform has only partly loaded would make it:
// WouldRetire > Budget x Open and WouldRetire > RetireGuardMinimum. The
// call wrote nothing. It matches ErrRetireBudgetExceeded with errors.Is.
type RetireBudgetError struct {
	WouldRetire int     // OPEN tasks the call would have retired
	Open        int     // OPEN tasks of the call's candidates before the call
	Budget      float64 // the fraction of Open it may retire
}

func (e *RetireBudgetError) Error() string {
	return fmt.Sprintf("taskcreate: the call would retire %d of %d open tasks, more than its budget of %g allows; "+
		"nothing was written (set maxRetireFraction if most of its recommendations really ended)", e.WouldRetire, e.Open, e.Budget)
}

// Is makes errors.Is(err, ErrRetireBudgetExceeded) true.
func (e *RetireBudgetError) Is(target error) bool { return target == ErrRetireBudgetExceeded }
