package taskcreate

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/actionvector/tasks/store"
)

// The defaults of the options of the same names.
const (
	DefaultMaxPerimeter = 1_000_000 // pairs of a request (WithMaxPerimeter)
	DefaultMaxOutcomes  = 100_000   // candidates of a ReturnOutcomes request (WithMaxOutcomes)
	DefaultRetireBudget = 0.5       // a day's churn, far below what a half-loaded snapshot retires (WithRetireBudget)
)

// Service creates tasks on a TaskStore. It is safe for concurrent use.
type Service struct {
	store        TaskStore
	now          func() time.Time
	newID        func() (uuid.UUID, error) // nil: a run of UUIDv7s per call
	priority     Priority
	maxPerimeter int
	maxOutcomes  int
	retireBudget float64
	attempts     int
	backoff      time.Duration
	maxBackoff   time.Duration

	tracerProvider trace.TracerProvider // nil: the global one
	meterProvider  metric.MeterProvider
	tel            telemetry
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock that stamps created_at and updated_at. Its
// readings are converted to UTC and truncated to microseconds.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithIDSource sets the source of proposed task ids, called once per
// candidate of a call. Every id it returns must be unique across all
// calls. By default a call proposes a run of consecutive UUIDv7s, drawn
// once, which costs no memory per candidate.
func WithIDSource(newID func() (uuid.UUID, error)) Option {
	return func(s *Service) { s.newID = newID }
}

// WithDefaultPriority sets the priority of new tasks (default PriorityMedium).
func WithDefaultPriority(p Priority) Option { return func(s *Service) { s.priority = p } }

// WithMaxPerimeter sets the largest perimeter accepted, in pairs before
// duplicates are collapsed (default DefaultMaxPerimeter).
func WithMaxPerimeter(n int) Option { return func(s *Service) { s.maxPerimeter = n } }

// WithMaxOutcomes sets the most candidates (unique pairs times unique
// domains) a request that asks for ReturnOutcomes may have.
func WithMaxOutcomes(n int) Option { return func(s *Service) { s.maxOutcomes = n } }

// WithRetireBudget sets the fraction of its candidates' OPEN tasks a
// RetireStale call may retire beyond RetireGuardMinimum; a call that would
// retire more writes nothing and returns a *RetireBudgetError. 1 turns the
// guard off.
func WithRetireBudget(fraction float64) Option { return func(s *Service) { s.retireBudget = fraction } }

// WithRetry sets how often a call is attempted when the store reports a
// transient error (default 5 attempts), and the first backoff (default
// 20ms), which doubles after each attempt up to one second, with jitter.
func WithRetry(attempts int, backoff time.Duration) Option {
	return func(s *Service) { s.attempts, s.backoff = attempts, backoff }
}

// New returns a Service that creates tasks on store. It panics if store is
// nil or an option is out of range: a programming error.
func New(store TaskStore, opts ...Option) *Service {
	s := &Service{
		store:        store,
		now:          time.Now,
		priority:     PriorityMedium,
		maxPerimeter: DefaultMaxPerimeter,
		maxOutcomes:  DefaultMaxOutcomes,
		retireBudget: DefaultRetireBudget,
		attempts:     5,
		backoff:      20 * time.Millisecond,
		maxBackoff:   time.Second,
	}
	for _, opt := range opts {
		opt(s)
	}
	s.maxBackoff = max(s.maxBackoff, s.backoff)
	s.tel = newTelemetry(s.tracerProvider, s.meterProvider)
	switch {
	case store == nil:
		panic("taskcreate: New: nil TaskStore")
	case s.now == nil:
		panic("taskcreate: WithClock: nil clock")
	case !s.priority.Valid():
		panic(fmt.Sprintf("taskcreate: WithDefaultPriority: invalid priority %q", string(s.priority)))
	case s.maxPerimeter < 1:
		panic(fmt.Sprintf("taskcreate: WithMaxPerimeter: %d is below 1", s.maxPerimeter))
	case s.maxOutcomes < 0:
		panic(fmt.Sprintf("taskcreate: WithMaxOutcomes: %d is negative", s.maxOutcomes))
	case !(s.retireBudget >= 0 && s.retireBudget <= 1): // NaN too
		panic(fmt.Sprintf("taskcreate: WithRetireBudget: %v is outside [0, 1]", s.retireBudget))
	case s.attempts < 1 || s.backoff < 0:
		panic(fmt.Sprintf("taskcreate: WithRetry: %d attempts, backoff %v", s.attempts, s.backoff))
	}
	return s
}

// Limits returns the bounds s sets on the size of a request.
func (s *Service) Limits() Limits {
	return Limits{MaxPerimeter: s.maxPerimeter, MaxOutcomes: s.maxOutcomes}
}

// CreateTasks validates req, then creates or refreshes the tasks of its
// perimeter in one transaction. On any error nothing was written, except
// one matching ErrOutcomeUnknown; a call whose work committed returns its
// Result even if ctx ended meanwhile.
func (s *Service) CreateTasks(ctx context.Context, req Request) (res Result, err error) {
	ctx, c := s.tel.start(ctx, "CreateTasks", "create", req.OrganizationID, req.WorkflowRunID, req.DryRun)
	attempts := 0
	defer func() {
		s.tel.end(ctx, c, attempts, map[string]int{"created": res.Created, "updated": res.Updated,
			"suppressed": res.Suppressed, "skipped": res.Skipped, "unmatched": res.Unmatched, "retired": res.Retired}, err)
		if err == nil {
			s.tel.countCandidates(ctx, c, res)
		}
	}()
	b, err := s.prepare(req)
	if err != nil {
		return Result{}, err
	}
	c.span.SetAttributes(AttrCandidates.Int(b.Len()))
	var out store.Outcome
	if b.Len() > 0 { // else there is nothing to read or write
		out, attempts, err = retry(ctx, s, func() (store.Outcome, error) { return s.store.MaterializeTasks(ctx, b) })
		if err != nil {
			return Result{}, err
		}
	} else if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("taskcreate: %w", err)
	}
	if err := checkOutcome(b, out); err != nil {
		return Result{}, err
	}
	res = Result{
		WorkflowRunID: req.WorkflowRunID,
		SuccessCode:   SuccessCodeTasksCreated,
		Created:       out.Created,
		Updated:       out.Updated,
		Suppressed:    out.Suppressed,
		Skipped:       out.Skipped,
		Unmatched:     out.Unmatched,
		Retired:       out.Retired,
	}
	if b.DryRun {
		res.SuccessCode = SuccessCodeTasksPreviewed
	}
	if b.ReturnOutcomes {
		res.Outcomes = outcomesOf(b, out.Candidates)
	}
	return res, nil
}

// checkOutcome makes sure a store accounted for every candidate of b once,
// and that what it listed agrees with what it counted. The store has
// committed by then, so a wrong account leaves the outcome unknown.
func checkOutcome(b *store.Batch, out store.Outcome) error {
	bad := func(format string, args ...any) error {
		err := fmt.Errorf("taskcreate: store accounted for the candidates wrongly: "+format, args...)
		if b.DryRun {
			return err
		}
		return store.MarkOutcomeUnknown(err)
	}
	switch {
	case out.Total() != b.Len() || min(out.Created, out.Updated, out.Suppressed, out.Skipped, out.Unmatched, out.Retired) < 0:
		return bad("%d of %d candidates (%+v)", out.Total(), b.Len(), out)
	case out.Retired > out.Suppressed+out.Skipped+out.Unmatched || out.Retired > 0 && !b.RetireStale || b.RetireStale && out.Retired > RetireGuardMinimum && out.Retired > out.Open:
		return bad("%d tasks retired of %d open, with %d candidates not eligible and RetireStale %v", out.Retired, out.Open,
			out.Suppressed+out.Skipped+out.Unmatched, b.RetireStale)
	case !b.ReturnOutcomes:
		return nil
	}
	listed, err := out.Tally(out.Candidates, b.Len())
	if err != nil {
		return bad("%v", err)
	}
	if counts(listed) != counts(out) {
		return bad("listed %+v, counted %+v", counts(listed), counts(out))
	}
	return nil
}

// counts are the counts of an Outcome, which can be compared.
func counts(o store.Outcome) [6]int {
	return [6]int{o.Created, o.Updated, o.Suppressed, o.Skipped, o.Unmatched, o.Retired}
}

// outcomesOf lists every candidate of b in key order, with what listed
// says of it; those it leaves out are unmatched.
func outcomesOf(b *store.Batch, listed []store.CandidateResult) []CandidateOutcome {
	outcomes := make([]CandidateOutcome, b.Len())
	for i := range outcomes {
		p := b.Pairs[i%len(b.Pairs)]
		outcomes[i] = CandidateOutcome{Domain: b.Domains[i/len(b.Pairs)], ShopID: p.ShopID, VariantID: p.VariantID, Outcome: OutcomeUnmatched}
	}
	for _, c := range listed {
		o := &outcomes[c.Index]
		o.Outcome, o.TaskID, o.Retired = c.Outcome, c.TaskID, c.Retired
	}
	return outcomes
}

// SweepRun dismisses, in one transaction, every OPEN task of the
// organization still owned by the run (no later run refreshed it): for the
// cron job that declares a run dead. Other tasks are untouched, and a
// second sweep dismisses nothing. Errors are those of CreateTasks.
func (s *Service) SweepRun(ctx context.Context, req SweepRequest) (res SweepResult, err error) {
	ctx, c := s.tel.start(ctx, "SweepRun", "sweep", req.OrganizationID, req.WorkflowRunID, req.DryRun)
	attempts := 0
	defer func() {
		s.tel.end(ctx, c, attempts, map[string]int{"dismissed": res.Dismissed}, err)
		if err == nil && !req.DryRun {
			s.tel.dismissed.Add(ctx, int64(res.Dismissed), metric.WithAttributes(AttrDismissal.String("swept")))
		}
	}()
	if err := checkSweep(req); err != nil {
		return SweepResult{}, err
	}
	sw := &store.Sweep{OrganizationID: req.OrganizationID, WorkflowRunID: req.WorkflowRunID,
		Now: s.now().UTC().Truncate(time.Microsecond), DryRun: req.DryRun}
	n, attempts, err := retry(ctx, s, func() (int, error) { return s.store.SweepTasks(ctx, sw) })
	if err != nil {
		return SweepResult{}, err
	}
	if n < 0 {
		return SweepResult{}, fmt.Errorf("taskcreate: store dismissed %d tasks", n)
	}
	res = SweepResult{WorkflowRunID: req.WorkflowRunID, SuccessCode: SuccessCodeTasksSwept, Dismissed: n}
	if req.DryRun {
		res.SuccessCode = SuccessCodeTasksPreviewed
	}
	return res, nil
}

// prepare validates and normalizes req into the batch handed to the store.
func (s *Service) prepare(req Request) (*store.Batch, error) {
	if err := checkRequest(&req, s.maxPerimeter); err != nil {
		return nil, err
	}
	b := &store.Batch{
		OrganizationID: req.OrganizationID,
		WorkflowRunID:  req.WorkflowRunID,
		MinConfidence:  req.MinConfidence,
		Priority:       s.priority,
		Now:            s.now().UTC().Truncate(time.Microsecond),
		Domains:        normalizeDomains(req.Domains),
		Pairs:          normalizePairs(req.Perimeter),
		DryRun:         req.DryRun,
		RetireStale:    req.RetireStale,
		ReturnOutcomes: req.ReturnOutcomes,
		RetireBudget:   s.retireBudget,
		SnapshotDate:   req.SnapshotDate,
	}
	if req.MaxRetireFraction != nil {
		b.RetireBudget = *req.MaxRetireFraction
	}
	if b.ReturnOutcomes {
		if err := s.Limits().OutcomesError(len(b.Pairs), len(b.Domains)); err != nil {
			return nil, err
		}
	}
	ids, err := s.proposeIDs(b.Len())
	if err != nil {
		return nil, fmt.Errorf("taskcreate: proposing task ids: %w", err)
	}
	b.ProposedIDs = ids
	return b, nil
}

// proposeIDs proposes the ids of n candidates: n from the source of
// WithIDSource, else a run (store.IDRun) from one UUIDv7, whose time,
// to a fraction of a millisecond, no other in the process shares, and
// whose random bits (61 of them, one kept clear for the run) tell it from
// other processes'.
func (s *Service) proposeIDs(n int) (store.IDs, error) {
	if s.newID == nil {
		first, err := uuid.NewV7()
		if err != nil {
			return store.IDs{}, err
		}
		first[8] &^= 0x20 // the top random bit: room for the run
		return store.IDRun(first, n)
	}
	ids := make([]uuid.UUID, n)
	for i := range ids {
		id, err := s.newID()
		if err != nil {
			return store.IDs{}, err
		}
		ids[i] = id
	}
	return store.IDList(ids...), nil
}

// retry runs call, a store operation, retrying transient errors with
// backoff while ctx allows. It returns how many times it called.
func retry[T any](ctx context.Context, s *Service, call func() (T, error)) (T, int, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, 0, fmt.Errorf("taskcreate: %w", err)
	}
	backoff := s.backoff
	for attempt := 1; ; attempt++ {
		v, err := call()
		switch {
		case err == nil:
			return v, attempt, nil
		case errors.Is(err, ErrOutcomeUnknown):
			// Neither a retry nor the context's error would tell the truth.
			return zero, attempt, fmt.Errorf("taskcreate: %w", err)
		case ctx.Err() != nil && !errors.Is(err, ctx.Err()):
			// The driver's own words for an interrupted statement; callers
			// look for the context's error.
			return zero, attempt, fmt.Errorf("taskcreate: %w: %w", ctx.Err(), err)
		case !errors.Is(err, ErrTransient):
			return zero, attempt, fmt.Errorf("taskcreate: %w", err)
		case attempt >= s.attempts:
			return zero, attempt, fmt.Errorf("taskcreate: giving up after %d attempts: %w", attempt, err)
		}
		// Full jitter keeps retrying callers from colliding again in step.
		t := time.NewTimer(rand.N(backoff + 1))
		select {
		case <-ctx.Done():
			t.Stop()
			return zero, attempt, fmt.Errorf("taskcreate: %w: %w", ctx.Err(), err)
		case <-t.C:
		}
		backoff = min(2*backoff, s.maxBackoff)
	}
}
