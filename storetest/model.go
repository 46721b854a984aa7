package storetest

import (
	"bytes"
	"cmp"
	"slices"
	"time"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
	"github.com/google/uuid"
)

// model is an in-memory rendition of the rules of package taskcreate,
// written from its documentation and SPEC.md, not from any adapter. The
// differential test applies every operation to a store and to the model and
// compares what they say.
type model struct {
	vectors map[vectorKey]taskcreate.ActionVector
	tasks   []taskcreate.Task // every organization's, in creation order
}

// vectorKey is the primary key of an action vector.
type vectorKey struct {
	org, variant, shop string
	date               time.Time // midnight UTC
	domain             taskcreate.Domain
}

// taskKey is the key that has at most one open task.
type taskKey struct {
	org     string
	domain  taskcreate.Domain
	shop    string
	variant string
}

func newModel() *model { return &model{vectors: map[vectorKey]taskcreate.ActionVector{}} }

func keyOf(t taskcreate.Task) taskKey {
	return taskKey{org: t.OrganizationID, domain: t.Domain, shop: t.ShopID, variant: t.VariantID}
}

// putVectors inserts rows, replacing those with the same primary key.
func (m *model) putVectors(rows []taskcreate.ActionVector) {
	for _, v := range rows {
		v.SnapshotDate = calendarDate(v.SnapshotDate)
		m.vectors[vectorKey{v.OrganizationID, v.VariantID, v.ShopID, v.SnapshotDate, v.Domain}] = v
	}
}

// latestDate returns the greatest snapshot date of org in domain d.
func (m *model) latestDate(org string, d taskcreate.Domain) (time.Time, bool) {
	var latest time.Time
	found := false
	for k := range m.vectors {
		if k.org == org && k.domain == d && (!found || k.date.After(latest)) {
			latest, found = k.date, true
		}
	}
	return latest, found
}

// recommends reports whether v recommends something in its domain.
func recommends(v taskcreate.ActionVector) bool {
	if v.Domain == taskcreate.Markdown {
		return v.RecommendedDiscountPct != nil && *v.RecommendedDiscountPct > 0
	}
	return v.RecommendedQty != nil && *v.RecommendedQty > 0
}

// createTasks applies a valid request the way CreateTasks must: priority is
// the service's, now the call's (already UTC microseconds), proposedID(i)
// the id proposed for candidate i in key order, and budget the service's
// retirement budget. It returns the counts and every candidate's outcome
// (Result.Outcomes), or the *taskcreate.RetireBudgetError of a call that
// would retire too many. A dry run, or a refused call, changes nothing.
func (m *model) createTasks(req taskcreate.Request, priority taskcreate.Priority, now time.Time, proposedID func(i int) uuid.UUID,
	budget float64) (store.Outcome, []taskcreate.CandidateOutcome, error) {
	domains := slices.Clone(req.Domains)
	slices.Sort(domains)
	domains = slices.Compact(domains)
	pairs := slices.Clone(req.Perimeter)
	slices.SortFunc(pairs, func(a, b taskcreate.Pair) int {
		return cmp.Or(cmp.Compare(a.ShopID, b.ShopID), cmp.Compare(a.VariantID, b.VariantID))
	})
	pairs = slices.Compact(pairs)
	tasks := slices.Clone(m.tasks)

	var out store.Outcome
	outcomes := []taskcreate.CandidateOutcome{}
	i := 0
	for _, d := range domains {
		latest, hasSnapshot := m.latestDate(req.OrganizationID, d)
		if !req.SnapshotDate.IsZero() {
			latest, hasSnapshot = req.SnapshotDate, true
		}
		for _, p := range pairs {
			id := proposedID(i)
			i++
			key := taskKey{org: req.OrganizationID, domain: d, shop: p.ShopID, variant: p.VariantID}
			o := taskcreate.CandidateOutcome{Domain: d, ShopID: p.ShopID, VariantID: p.VariantID}
			open := slices.IndexFunc(tasks, func(t taskcreate.Task) bool { return keyOf(t) == key && t.Status.IsOpen() })
			if open >= 0 && tasks[open].Status == taskcreate.StatusOpen {
				out.Open++ // each key is one candidate's: this is before the call
			}
			v, ok := m.vectors[vectorKey{req.OrganizationID, p.VariantID, p.ShopID, latest, d}]
			switch {
			case !hasSnapshot || !ok:
				o.Outcome = taskcreate.OutcomeUnmatched
				out.Unmatched++
			case req.MinConfidence > 0 && v.Confidence != nil && *v.Confidence < req.MinConfidence:
				o.Outcome = taskcreate.OutcomeSuppressed
				out.Suppressed++
			case !recommends(v):
				o.Outcome = taskcreate.OutcomeSkipped
				out.Skipped++
			case open >= 0:
				o.Outcome, o.TaskID = taskcreate.OutcomeUpdated, tasks[open].ID
				tasks[open] = refreshed(tasks[open], v, req.WorkflowRunID, now)
				out.Updated++
			default:
				o.Outcome = taskcreate.OutcomeCreated
				if !req.DryRun {
					o.TaskID = id
				}
				tasks = append(tasks, taskFrom(v, id, req.WorkflowRunID, priority, now))
				out.Created++
			}
			if req.RetireStale && o.Outcome != taskcreate.OutcomeCreated && o.Outcome != taskcreate.OutcomeUpdated &&
				open >= 0 && tasks[open].Status == taskcreate.StatusOpen {
				tasks[open].Status, tasks[open].WorkflowRunID, tasks[open].UpdatedAt = taskcreate.StatusDismissed, req.WorkflowRunID, now
				o.TaskID, o.Retired = tasks[open].ID, true
				out.Retired++
			}
			outcomes = append(outcomes, o)
		}
	}
	if req.MaxRetireFraction != nil {
		budget = *req.MaxRetireFraction
	}
	if req.RetireStale && out.Retired > taskcreate.RetireGuardMinimum && float64(out.Retired) > budget*float64(out.Open) {
		return store.Outcome{}, nil, &taskcreate.RetireBudgetError{WouldRetire: out.Retired, Open: out.Open, Budget: budget}
	}
	if !req.DryRun {
		m.tasks = tasks
	}
	return out, outcomes, nil
}

// sweepRun dismisses the OPEN tasks of org owned by run, as SweepRun must,
// and returns how many; a dry run changes nothing.
func (m *model) sweepRun(req taskcreate.SweepRequest, now time.Time) int {
	n := 0
	for i, t := range m.tasks {
		if t.OrganizationID == req.OrganizationID && t.WorkflowRunID == req.WorkflowRunID && t.Status == taskcreate.StatusOpen {
			n++
			if !req.DryRun {
				m.tasks[i].Status, m.tasks[i].UpdatedAt = taskcreate.StatusDismissed, now
			}
		}
	}
	return n
}

// openTask returns the index of the open task of key, or -1.
func (m *model) openTask(key taskKey) int {
	return slices.IndexFunc(m.tasks, func(t taskcreate.Task) bool { return keyOf(t) == key && t.Status.IsOpen() })
}

// setTaskStatus moves task id of org to st, as SetTaskStatus must, and
// returns the index of the task. It does not touch UpdatedAt: whether a
// store stamps it is left to the store.
func (m *model) setTaskStatus(org string, id uuid.UUID, st taskcreate.Status) (int, error) {
	i := slices.IndexFunc(m.tasks, func(t taskcreate.Task) bool { return t.ID == id && t.OrganizationID == org })
	if i < 0 {
		return -1, taskcreate.ErrTaskNotFound
	}
	if st.IsOpen() && !m.tasks[i].Status.IsOpen() && m.openTask(keyOf(m.tasks[i])) >= 0 {
		return -1, taskcreate.ErrOpenTaskExists
	}
	m.tasks[i].Status = st
	return i, nil
}

// listTasks returns the tasks f selects, in ListTasks order.
func (m *model) listTasks(f taskcreate.TaskFilter) []taskcreate.Task {
	var out []taskcreate.Task
	for _, t := range m.tasks {
		if t.OrganizationID == f.OrganizationID &&
			(f.WorkflowRunID == "" || t.WorkflowRunID == f.WorkflowRunID) &&
			(len(f.Statuses) == 0 || slices.Contains(f.Statuses, t.Status)) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, compareListOrder)
	return out
}

// compareListOrder is the order of ListTasks: domain, shop, variant (strings
// in byte order), created_at, then id.
func compareListOrder(a, b taskcreate.Task) int {
	return cmp.Or(
		cmp.Compare(a.Domain, b.Domain),
		cmp.Compare(a.ShopID, b.ShopID),
		cmp.Compare(a.VariantID, b.VariantID),
		a.CreatedAt.Compare(b.CreatedAt),
		bytes.Compare(a.ID[:], b.ID[:]),
	)
}
