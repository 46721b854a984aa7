package taskcreate

import (
	"bufio"
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
)

// DefaultMaxPerimeter is the largest perimeter a Service accepts unless
// configured otherwise with WithMaxPerimeter.
const DefaultMaxPerimeter = 1_000_000

// Service creates tasks on a TaskStore. It is safe for concurrent use.
type Service struct {
	store        TaskStore
	now          func() time.Time
	newID        func() (uuid.UUID, error) // nil: UUIDv7 from crypto/rand
	priority     Priority
	maxPerimeter int
	attempts     int
	backoff      time.Duration
	maxBackoff   time.Duration
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock that stamps created_at and updated_at. Its
// readings are converted to UTC and truncated to microseconds.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithIDSource sets the source of proposed task ids. Every id it returns must
// be unique across all calls; the default returns UUIDv7s.
func WithIDSource(newID func() (uuid.UUID, error)) Option {
	return func(s *Service) { s.newID = newID }
}

// WithDefaultPriority sets the priority of new tasks (default PriorityMedium).
func WithDefaultPriority(p Priority) Option { return func(s *Service) { s.priority = p } }

// WithMaxPerimeter sets the largest perimeter accepted, in pairs before
// duplicates are collapsed (default DefaultMaxPerimeter).
func WithMaxPerimeter(n int) Option { return func(s *Service) { s.maxPerimeter = n } }

// WithRetry sets how often a call is attempted when the store reports a
// transient error (default 5 attempts), and the first backoff (default
// 20ms), which doubles after each attempt up to one second, with jitter.
func WithRetry(attempts int, backoff time.Duration) Option {
	return func(s *Service) { s.attempts, s.backoff = attempts, backoff }
}

// New returns a Service that creates tasks on store. It panics if store is
// nil or an option is out of range (a priority that is not valid, a maximum
// perimeter or a number of attempts below 1, a negative backoff): those are
// programming errors, not run-time conditions.
func New(store TaskStore, opts ...Option) *Service {
	s := &Service{
		store:        store,
		now:          time.Now,
		priority:     PriorityMedium,
		maxPerimeter: DefaultMaxPerimeter,
		attempts:     5,
		backoff:      20 * time.Millisecond,
		maxBackoff:   time.Second,
	}
	for _, opt := range opts {
		opt(s)
	}
	s.maxBackoff = max(s.maxBackoff, s.backoff)
	switch {
	case store == nil:
		panic("taskcreate: New: nil TaskStore")
	case s.now == nil:
		panic("taskcreate: WithClock: nil clock")
	case !s.priority.Valid():
		panic(fmt.Sprintf("taskcreate: WithDefaultPriority: invalid priority %q", string(s.priority)))
	case s.maxPerimeter < 1:
		panic(fmt.Sprintf("taskcreate: WithMaxPerimeter: %d is below 1", s.maxPerimeter))
	case s.attempts < 1 || s.backoff < 0:
		panic(fmt.Sprintf("taskcreate: WithRetry: %d attempts, backoff %v", s.attempts, s.backoff))
	}
	return s
}

// CreateTasks validates req, then creates or refreshes the tasks of its
// perimeter in one transaction, following the rules of the package
// documentation.
//
// An invalid request returns a *ValidationError (errors.Is(err,
// ErrInvalidRequest)) and touches nothing. A cancelled or expired ctx
// returns an error matching ctx.Err() with errors.Is. On any error nothing
// was written, except one matching ErrOutcomeUnknown: the connection was
// lost while committing, and the call cannot know. A call whose work
// committed returns its Result even if ctx ended meanwhile.
func (s *Service) CreateTasks(ctx context.Context, req Request) (Result, error) {
	b, err := s.prepare(req)
	if err != nil {
		return Result{}, err
	}
	out, err := s.materialize(ctx, b)
	if err != nil {
		return Result{}, err
	}
	if out.Total() != b.Len() || min(out.Created, out.Updated, out.Suppressed, out.Skipped, out.Unmatched) < 0 {
		return Result{}, fmt.Errorf("taskcreate: store accounted for %d of %d candidates (%+v)", out.Total(), b.Len(), out)
	}
	return Result{
		WorkflowRunID: req.WorkflowRunID,
		SuccessCode:   SuccessCodeTasksCreated,
		Created:       out.Created,
		Updated:       out.Updated,
		Suppressed:    out.Suppressed,
		Skipped:       out.Skipped,
		Unmatched:     out.Unmatched,
	}, nil
}

// prepare validates and normalizes req into the batch handed to the store.
func (s *Service) prepare(req Request) (*Batch, error) {
	if err := checkRequest(&req, s.maxPerimeter); err != nil {
		return nil, err
	}
	b := &Batch{
		OrganizationID: req.OrganizationID,
		WorkflowRunID:  req.WorkflowRunID,
		MinConfidence:  req.MinConfidence,
		Priority:       s.priority,
		Now:            s.now().UTC().Truncate(time.Microsecond),
		Domains:        normalizeDomains(req.Domains),
		Pairs:          normalizePairs(req.Perimeter),
	}
	ids, err := s.proposeIDs(b.Len())
	if err != nil {
		return nil, fmt.Errorf("taskcreate: proposing task ids: %w", err)
	}
	b.ProposedIDs = ids
	return b, nil
}

func (s *Service) proposeIDs(n int) ([]uuid.UUID, error) {
	ids := make([]uuid.UUID, n)
	newID := s.newID
	if newID == nil {
		// One read from crypto/rand per 256 ids instead of one per id.
		r := bufio.NewReaderSize(crand.Reader, 16*256)
		newID = func() (uuid.UUID, error) { return uuid.NewV7FromReader(r) }
	}
	for i := range ids {
		id, err := newID()
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	return ids, nil
}

// materialize hands b to the store, retrying transient errors with backoff
// while ctx allows.
func (s *Service) materialize(ctx context.Context, b *Batch) (Outcome, error) {
	if err := ctx.Err(); err != nil {
		return Outcome{}, fmt.Errorf("taskcreate: %w", err)
	}
	if b.Len() == 0 {
		return Outcome{}, nil // nothing to read or write
	}
	backoff := s.backoff
	for attempt := 1; ; attempt++ {
		out, err := s.store.MaterializeTasks(ctx, b)
		switch {
		case err == nil:
			return out, nil
		case errors.Is(err, ErrOutcomeUnknown):
			// Neither a retry nor the context's error would tell the truth.
			return Outcome{}, fmt.Errorf("taskcreate: %w", err)
		case ctx.Err() != nil && !errors.Is(err, ctx.Err()):
			// The driver's own words for an interrupted statement; callers
			// look for the context's error.
			return Outcome{}, fmt.Errorf("taskcreate: %w: %w", ctx.Err(), err)
		case !errors.Is(err, ErrTransient):
			return Outcome{}, fmt.Errorf("taskcreate: %w", err)
		case attempt >= s.attempts:
			return Outcome{}, fmt.Errorf("taskcreate: giving up after %d attempts: %w", attempt, err)
		}
		// Full jitter keeps retrying callers from colliding again in step.
		t := time.NewTimer(rand.N(backoff + 1))
		select {
		case <-ctx.Done():
			t.Stop()
			return Outcome{}, fmt.Errorf("taskcreate: %w: %w", ctx.Err(), err)
		case <-t.C:
		}
		backoff = min(2*backoff, s.maxBackoff)
	}
}
