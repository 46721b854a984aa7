package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// TaskStore is the port taskcreate's Service runs on. An adapter implements
// it over a database; storetest.Run checks that it follows the rules of
// taskcreate's package documentation.
type TaskStore interface {
	// MaterializeTasks applies the rules of taskcreate's documentation to
	// every candidate of b, in one transaction, and reports what happened
	// to each. It writes nothing unless it returns a nil error, or an error
	// marked with MarkOutcomeUnknown when the connection was lost during
	// the commit. Once the work is done and ctx is still live, the commit
	// must run to its end whatever ctx does next. Errors a retry may cure
	// (serialization failure, deadlock, busy database) are wrapped with
	// MarkTransient.
	MaterializeTasks(ctx context.Context, b *Batch) (Outcome, error)

	// SweepTasks dismisses every OPEN ACTION_VECTOR task of the
	// organization whose run is the sweep's, stamping updated_at with its
	// Now, in one transaction, and returns how many it dismissed; with
	// DryRun it only counts them. It takes the tasks' row locks in key
	// order, as MaterializeTasks does, so the two never deadlock. Errors
	// are marked as MaterializeTasks's are.
	SweepTasks(ctx context.Context, s *Sweep) (int, error)
}

// Sweep is the validated work of one SweepRun call.
type Sweep struct {
	OrganizationID string
	WorkflowRunID  string
	Now            time.Time // UTC, whole microseconds: updated_at
	DryRun         bool
}

// Batch is the validated, normalized work of one CreateTasks call.
//
// Its candidates are every (domain, pair) of Domains x Pairs, in key order
// (domain, shop, variant): candidate i is Domains[i/len(Pairs)] with
// Pairs[i%len(Pairs)], and ProposedIDs.At(i) is the id it gets if it
// creates a task. The order a store locks keys in is its own, but one
// total order of keys for every operation that writes tasks, so that
// concurrent calls and sweeps cannot deadlock: this one, or another that
// suits its indexes.
type Batch struct {
	OrganizationID string
	WorkflowRunID  string
	MinConfidence  float64
	Priority       Priority  // of new tasks
	Now            time.Time // UTC, whole microseconds: created_at and updated_at
	Domains        []Domain  // unique, ascending
	Pairs          []Pair    // unique, ascending by (ShopID, VariantID)
	ProposedIDs    IDs       // len(Domains)*len(Pairs), one per candidate

	// DryRun: classify and count, write nothing, hold no lock afterwards.
	DryRun bool
	// RetireStale: dismiss the OPEN task of every candidate that is not
	// eligible, stamping it with the run and Now, and count it in
	// Outcome.Retired. Its row locks, like the upsert's, are taken in key
	// order, before anything is written.
	RetireStale bool
	// ReturnOutcomes: list in Outcome.Candidates every candidate that has
	// an action vector or a retired task.
	ReturnOutcomes bool
	// RetireBudget is the fraction of the candidates' OPEN tasks a
	// RetireStale batch may retire: CheckRetireBudget, inside the
	// transaction, before it commits. 1 turns the check off.
	RetireBudget float64
	// SnapshotDate is the date every domain is read at; zero: each
	// domain's latest.
	SnapshotDate time.Time
}

// CheckRetireBudget returns a *RetireBudgetError if retiring wouldRetire of
// open OPEN tasks exceeds the batch's budget, else nil. A store counts
// both over the whole batch, under the locks of the retirement, and calls
// it before committing (in a dry run, before answering): a refused call
// writes nothing.
func (b *Batch) CheckRetireBudget(open, wouldRetire int) error {
	if wouldRetire > RetireGuardMinimum && float64(wouldRetire) > b.RetireBudget*float64(open) {
		return &RetireBudgetError{WouldRetire: wouldRetire, Open: open, Budget: b.RetireBudget}
	}
	return nil
}

// Len returns the number of candidates.
func (b *Batch) Len() int { return len(b.Domains) * len(b.Pairs) }

// Outcome counts what a store did with the candidates of a batch (in a dry
// run, what it would do) and, when the batch asks, says it candidate by
// candidate.
type Outcome struct {
	Created    int // no open task for the key: a new one was inserted
	Updated    int // the open task of the key was refreshed and now belongs to the run
	Suppressed int // confidence below MinConfidence
	Skipped    int // the action vector recommends nothing
	Unmatched  int // no action vector in the latest snapshot
	Retired    int // OPEN tasks of suppressed, skipped and unmatched candidates dismissed (RetireStale)
	Open       int // OPEN tasks of the candidates before the call, counted for RetireStale when Retired > RetireGuardMinimum

	// Candidates lists, when the batch has ReturnOutcomes, every candidate
	// that has an action vector or a retired task, in any order; a
	// candidate it leaves out is unmatched, with no task retired.
	Candidates []CandidateResult
}

// CandidateResult is what a store did with one candidate of a batch.
type CandidateResult struct {
	Index   int // the candidate's place in the batch
	Outcome OutcomeKind
	// TaskID is the task created, refreshed or retired: uuid.Nil for none,
	// and for the task a dry run would create.
	TaskID  uuid.UUID
	Retired bool
}

// MarkRetired completes a store's list of candidates with the tasks it
// retired: a listed candidate gets its retired task, and a retired one
// that is not listed, having no action vector, joins the list as
// unmatched. It returns the list, grown as append grows it.
func MarkRetired(listed, retired []CandidateResult) []CandidateResult {
	at := make(map[int]int, len(listed)) // place in the batch -> index in listed
	for i, r := range listed {
		at[r.Index] = i
	}
	for _, r := range retired {
		if i, ok := at[r.Index]; ok {
			listed[i].TaskID, listed[i].Retired = r.TaskID, true
		} else {
			r.Outcome = OutcomeUnmatched
			listed = append(listed, r)
		}
	}
	return listed
}

// Total returns the number of candidates the outcome accounts for.
func (o Outcome) Total() int { return o.Created + o.Updated + o.Suppressed + o.Skipped + o.Unmatched }

// Add returns the sum of o and p, where p is the outcome of a chunk of the
// batch and place maps a candidate of the chunk to its place in the batch,
// for stores that process a batch in chunks.
func (o Outcome) Add(p Outcome, place func(int) int) Outcome {
	sum := Outcome{
		Created:    o.Created + p.Created,
		Updated:    o.Updated + p.Updated,
		Suppressed: o.Suppressed + p.Suppressed,
		Skipped:    o.Skipped + p.Skipped,
		Unmatched:  o.Unmatched + p.Unmatched,
		Retired:    o.Retired + p.Retired,
		Open:       o.Open + p.Open,
		Candidates: o.Candidates,
	}
	for _, c := range p.Candidates {
		c.Index = place(c.Index)
		sum.Candidates = append(sum.Candidates, c)
	}
	return sum
}

// Settle is the rule that tells created from updated, for a store that
// lists its candidates: r is a candidate as the store read it, an eligible
// one as OutcomeUpdated with the id of its task (the one its upsert kept;
// in a dry run, the open task it would refresh, or uuid.Nil). An eligible
// candidate was created when its upsert kept the id proposed for it (a dry
// run: when it has no open task), else updated. Any other candidate loses
// the id: a task of a candidate that is not eligible is its own only when
// retired, which MarkRetired says.
func (b *Batch) Settle(r CandidateResult) CandidateResult {
	switch {
	case r.Outcome != OutcomeUpdated:
		r.TaskID = uuid.Nil
	case b.DryRun && r.TaskID == uuid.Nil, !b.DryRun && r.TaskID == b.ProposedIDs.At(r.Index):
		r.Outcome = OutcomeCreated
	}
	return r
}

// Upserted is the same rule for a store that counts: o completed with what
// the upsert of eligible candidates did, of which created kept the id
// proposed for them (a dry run: had no open task). written is how many
// tasks the upsert wrote (eligible, for a dry run); anything but one task
// per eligible candidate is an error.
func (o Outcome) Upserted(eligible, written, created int) (Outcome, error) {
	if written != eligible || created < 0 || created > eligible {
		return Outcome{}, fmt.Errorf("upsert wrote %d tasks (%d created) for %d eligible candidates", written, created, eligible)
	}
	o.Created, o.Updated = created, eligible-created
	return o, nil
}

// Tally counts a list of the candidates of a batch of n candidates, one
// entry at most for each: by outcome, those it leaves out as unmatched,
// and those retired. It keeps o's Open and sets Candidates to listed. An
// entry out of range or listed twice, or an outcome that is not one of
// the five, is an error.
func (o Outcome) Tally(listed []CandidateResult, n int) (Outcome, error) {
	t := Outcome{Open: o.Open, Candidates: listed, Unmatched: n - len(listed)}
	seen := make(map[int]bool, len(listed))
	for _, c := range listed {
		if c.Index < 0 || c.Index >= n || seen[c.Index] {
			return Outcome{}, fmt.Errorf("candidate %d listed out of range or twice", c.Index)
		}
		seen[c.Index] = true
		if c.Retired {
			t.Retired++
		}
		switch c.Outcome {
		case OutcomeCreated:
			t.Created++
		case OutcomeUpdated:
			t.Updated++
		case OutcomeSuppressed:
			t.Suppressed++
		case OutcomeSkipped:
			t.Skipped++
		case OutcomeUnmatched:
			t.Unmatched++
		default:
			return Outcome{}, fmt.Errorf("candidate %d has outcome %q", c.Index, c.Outcome)
		}
	}
	return t, nil
}
