package taskcreate

import (
	"errors"
	"fmt"
)

// ErrTransient is matched by errors.Is for store errors a retry may cure:
// serialization failures, deadlocks, a busy database. CreateTasks retries
// them; adapters mark them with MarkTransient.
var ErrTransient = errors.New("taskcreate: transient store error")

// ErrOutcomeUnknown is matched by errors.Is when a call cannot know whether
// its work was committed: the connection to the database was lost while the
// transaction committed. It is the one error after which tasks may have been
// written. Repeating the same call is safe: it refreshes what a committed
// first attempt created. Services answer it apart from other failures
// (taskhttp: 500 OUTCOME_UNKNOWN) and never retry it blindly as transient.
var ErrOutcomeUnknown = errors.New("taskcreate: outcome unknown: the connection was lost while committing")

// MarkOutcomeUnknown wraps err, an error of a commit whose result cannot be
// known, so that errors.Is(err, ErrOutcomeUnknown) is true while errors.Is
// and errors.As still reach err. It returns nil for a nil err.
func MarkOutcomeUnknown(err error) error {
	if err == nil {
		return nil
	}
	return markedError{err: err, mark: ErrOutcomeUnknown, prefix: "outcome unknown: "}
}

// ErrTaskNotFound is returned by a store's SetTaskStatus when the
// organization has no task with that id.
var ErrTaskNotFound = errors.New("taskcreate: task not found")

// ErrOpenTaskExists is returned by a store's SetTaskStatus when reopening a
// task would give its key a second open task.
var ErrOpenTaskExists = errors.New("taskcreate: an open task already exists for this key")

// MarkTransient wraps err so that errors.Is(err, ErrTransient) is true while
// errors.Is and errors.As still reach err and the errors it wraps. It returns
// nil for a nil err.
func MarkTransient(err error) error {
	if err == nil {
		return nil
	}
	return markedError{err: err, mark: ErrTransient}
}

// markedError is err, matching mark with errors.Is too, its text prefixed.
type markedError struct {
	err, mark error
	prefix    string
}

func (e markedError) Error() string        { return e.prefix + e.err.Error() }
func (e markedError) Unwrap() error        { return e.err }
func (e markedError) Is(target error) bool { return target == e.mark }

// ErrRetireBudgetExceeded is matched by errors.Is for a *RetireBudgetError.
var ErrRetireBudgetExceeded = errors.New("taskcreate: retirement budget exceeded")

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
