package storetest

import (
	"bytes"
	"cmp"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/actionvector/tasks/taskcreate"
	"github.com/anishathalye/porcupine"
	"github.com/google/uuid"
)

// The sequential specification the linearizability case checks histories
// against, one key at a time: every operation is split into what it asks
// of each key it touches, and each key's history must be linearizable on
// its own.

// opKind is the kind of an operation of the history.
type opKind int

const (
	opCreate    opKind = iota // Service.CreateTasks
	opSweep                   // Service.SweepRun
	opSetStatus               // Store.SetTaskStatus
	opRead                    // Store.ListTasks
)

// fate is what the action vectors make of a candidate at a MinConfidence.
// The case's vectors never change, so it computes the fate itself.
type fate string

const (
	fateEligible   fate = "eligible"
	fateSuppressed fate = "suppressed"
	fateSkipped    fate = "skipped"
	fateUnmatched  fate = "unmatched"
)

// fateOf classifies the latest vector of a candidate (nil: none) as rules
// 2 to 5 of SPEC.md section 3 do, in their order.
func fateOf(v *taskcreate.ActionVector, minConfidence float64) fate {
	switch {
	case v == nil:
		return fateUnmatched
	case minConfidence > 0 && v.Confidence != nil && *v.Confidence < minConfidence:
		return fateSuppressed
	case !recommends(*v):
		return fateSkipped
	}
	return fateEligible
}

// keyInput is what one operation asks of one key.
type keyInput struct {
	kind opKind
	key  taskKey
	run  string // create, sweep

	fate     fate      // create
	retire   bool      // create: RetireStale
	proposed uuid.UUID // create: the id the service proposed for this candidate

	id     uuid.UUID         // setStatus
	status taskcreate.Status // setStatus
}

// candidateResult is the part of a CandidateOutcome the model checks.
type candidateResult struct {
	outcome taskcreate.OutcomeKind
	taskID  uuid.UUID
	retired bool
}

// keyOutput is what one operation answered about one key.
type keyOutput struct {
	// unknown: the call returned ErrOutcomeUnknown; any answer is
	// accepted, and the step applies the operation.
	unknown bool
	result  candidateResult // create
	err     error           // setStatus: nil, ErrTaskNotFound or ErrOpenTaskExists
	tasks   keyState        // read
}

// keyTask is what the model keeps of a task.
type keyTask struct {
	id     uuid.UUID
	status taskcreate.Status
	run    string
}

// keyState is the tasks of one key, sorted by id so that equal states are
// equal slices, whatever order the tasks were made in.
type keyState []keyTask

// open returns the index of the key's open task, or -1.
func (s keyState) open() int {
	return slices.IndexFunc(s, func(t keyTask) bool { return t.status.IsOpen() })
}

func (s keyState) index(id uuid.UUID) int {
	return slices.IndexFunc(s, func(t keyTask) bool { return t.id == id })
}

// with returns s with task added, keeping the order.
func (s keyState) with(task keyTask) keyState {
	next := append(slices.Clone(s), task)
	slices.SortFunc(next, func(a, b keyTask) int { return bytes.Compare(a.id[:], b.id[:]) })
	return next
}

// linearizabilityModel is the porcupine model of one key.
func linearizabilityModel() porcupine.Model {
	return porcupine.Model{
		Partition: partitionByKey,
		Init:      func() any { return keyState(nil) },
		Step: func(state, input, output any) (bool, any) {
			return stepKey(state.(keyState), input.(keyInput), output.(keyOutput))
		},
		Equal: func(a, b any) bool { return slices.Equal(a.(keyState), b.(keyState)) },
		Hash: func(state any) uint64 {
			h := fnv.New64a()
			for _, t := range state.(keyState) {
				h.Write(t.id[:])
				fmt.Fprintf(h, "%s/%s;", t.status, t.run)
			}
			return h.Sum64()
		},
		DescribeOperation: func(input, output any) string {
			return describeKeyOperation(input.(keyInput), output.(keyOutput))
		},
		DescribeState: func(state any) string { return describeKeyState(state.(keyState)) },
	}
}

// stepKey applies in to s and says whether out is an answer the rules
// allow. It never modifies s.
func stepKey(s keyState, in keyInput, out keyOutput) (bool, keyState) {
	switch in.kind {
	case opCreate:
		return stepCreate(s, in, out)
	case opSweep:
		// SweepResult counts tasks, it names none: nothing to check per key.
		next := slices.Clone(s)
		for i, t := range next {
			if t.status == taskcreate.StatusOpen && t.run == in.run {
				next[i].status = taskcreate.StatusDismissed
			}
		}
		return true, next
	case opSetStatus:
		i := s.index(in.id)
		var want error
		switch {
		case i < 0:
			want = taskcreate.ErrTaskNotFound
		case in.status.IsOpen() && !s[i].status.IsOpen() && s.open() >= 0:
			want = taskcreate.ErrOpenTaskExists
		}
		ok := out.unknown || out.err == want
		if want != nil {
			return ok, s
		}
		next := slices.Clone(s)
		next[i].status = in.status
		return ok, next
	case opRead:
		return out.unknown || slices.Equal(out.tasks, s), s
	}
	panic(fmt.Sprintf("storetest: operation kind %d", in.kind))
}

// stepCreate is rule 5 and section 7.3 for one candidate.
func stepCreate(s keyState, in keyInput, out keyOutput) (bool, keyState) {
	open := s.open()
	got := out.result
	switch {
	case in.fate == fateEligible && open >= 0:
		ok := out.unknown || got == candidateResult{outcome: taskcreate.OutcomeUpdated, taskID: s[open].id}
		next := slices.Clone(s)
		next[open].run = in.run
		return ok, next
	case in.fate == fateEligible:
		// A new task gets the id the service proposed, which is how stores
		// tell created from updated.
		ok := out.unknown || got == candidateResult{outcome: taskcreate.OutcomeCreated, taskID: in.proposed} && s.index(in.proposed) < 0
		return ok, s.with(keyTask{id: in.proposed, status: taskcreate.StatusOpen, run: in.run})
	case in.retire && open >= 0 && s[open].status == taskcreate.StatusOpen:
		ok := out.unknown || got == candidateResult{outcome: taskcreate.OutcomeKind(in.fate), taskID: s[open].id, retired: true}
		next := slices.Clone(s)
		next[open].status, next[open].run = taskcreate.StatusDismissed, in.run
		return ok, next
	}
	return out.unknown || got == candidateResult{outcome: taskcreate.OutcomeKind(in.fate)}, s
}

// multiInput and multiOutput are a whole operation of the history: what it
// asked of and answered about every key it touches.
type multiInput struct{ perKey map[taskKey]keyInput }

type multiOutput struct {
	unknown bool
	perKey  map[taskKey]keyOutput
}

// partitionByKey splits every operation into one per key it touches, each
// with the interval of the whole operation.
func partitionByKey(history []porcupine.Operation) [][]porcupine.Operation {
	byKey := map[taskKey][]porcupine.Operation{}
	for _, op := range history {
		in, out := op.Input.(multiInput), op.Output.(multiOutput)
		for key, ki := range in.perKey {
			ko := out.perKey[key]
			if out.unknown {
				ko = keyOutput{unknown: true}
			}
			byKey[key] = append(byKey[key], porcupine.Operation{ClientId: op.ClientId, Input: ki, Call: op.Call, Output: ko, Return: op.Return})
		}
	}
	keys := make([]taskKey, 0, len(byKey))
	for key := range byKey {
		keys = append(keys, key)
	}
	slices.SortFunc(keys, compareKeys)
	partitions := make([][]porcupine.Operation, len(keys))
	for i, key := range keys {
		partitions[i] = byKey[key]
	}
	return partitions
}

// compareKeys is the key order of candidates: domain, shop, variant.
func compareKeys(a, b taskKey) int {
	return cmp.Or(cmp.Compare(a.org, b.org), cmp.Compare(a.domain, b.domain), cmp.Compare(a.shop, b.shop), cmp.Compare(a.variant, b.variant))
}

// shortID is the tail of id, enough to tell a key's tasks apart.
func shortID(id uuid.UUID) string { s := id.String(); return "…" + s[len(s)-6:] }

func describeKeyOperation(in keyInput, out keyOutput) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%s/%s: ", in.key.domain, in.key.shop, in.key.variant)
	switch in.kind {
	case opCreate:
		fmt.Fprintf(&b, "create %s (%s", in.run, in.fate)
		if in.retire {
			b.WriteString(", retire stale")
		}
		fmt.Fprintf(&b, ", proposes %s)", shortID(in.proposed))
	case opSweep:
		fmt.Fprintf(&b, "sweep %s", in.run)
	case opSetStatus:
		fmt.Fprintf(&b, "set %s to %s", shortID(in.id), in.status)
	case opRead:
		b.WriteString("list")
	}
	b.WriteString(" -> ")
	switch {
	case out.unknown:
		b.WriteString("outcome unknown")
	case in.kind == opCreate:
		b.WriteString(string(out.result.outcome))
		if out.result.taskID != uuid.Nil {
			b.WriteString(" " + shortID(out.result.taskID))
		}
		if out.result.retired {
			b.WriteString(" retired")
		}
	case in.kind == opSetStatus && out.err != nil:
		b.WriteString(out.err.Error())
	case in.kind == opSetStatus:
		b.WriteString("ok")
	case in.kind == opRead:
		b.WriteString(describeKeyState(out.tasks))
	default:
		b.WriteString("not observed")
	}
	return b.String()
}

func describeKeyState(s keyState) string {
	if len(s) == 0 {
		return "no task"
	}
	parts := make([]string, len(s))
	for i, t := range s {
		parts[i] = fmt.Sprintf("%s %s %s", shortID(t.id), t.status, t.run)
	}
	return strings.Join(parts, ", ")
}
