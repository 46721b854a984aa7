package taskcreate

import "errors"

// ErrTransient is matched by errors.Is for store errors a retry may cure:
// serialization failures, deadlocks, a busy database. CreateTasks retries
// them; adapters mark them with MarkTransient.
var ErrTransient = errors.New("taskcreate: transient store error")

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
	return transientError{err}
}

type transientError struct{ err error }

func (e transientError) Error() string        { return e.err.Error() }
func (e transientError) Unwrap() error        { return e.err }
func (e transientError) Is(target error) bool { return target == ErrTransient }
