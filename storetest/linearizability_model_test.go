package storetest

import (
	"testing"

	"github.com/actionvector/tasks/taskcreate"
	"github.com/anishathalye/porcupine"
	"github.com/google/uuid"
)

// The linearizability model on hand-made histories of one key, including
// the outcome-unknown path that a run without faults never takes.

func TestLinearizabilityModel(t *testing.T) {
	key := taskKey{org: acme, domain: restock, shop: "s1", variant: "v1"}
	a, b := sequenceID(1), sequenceID(2)
	type step struct {
		in      keyInput
		out     keyOutput
		call    int64
		ret     int64
		unknown bool
	}
	create := func(run string, f fate, retire bool, proposed uuid.UUID, got candidateResult) step {
		return step{in: keyInput{kind: opCreate, key: key, run: run, fate: f, retire: retire, proposed: proposed}, out: keyOutput{result: got}}
	}
	created := func(id uuid.UUID) candidateResult {
		return candidateResult{outcome: taskcreate.OutcomeCreated, taskID: id}
	}
	updated := func(id uuid.UUID) candidateResult {
		return candidateResult{outcome: taskcreate.OutcomeUpdated, taskID: id}
	}
	read := func(tasks ...keyTask) step {
		var s keyState
		for _, task := range tasks {
			s = s.with(task)
		}
		return step{in: keyInput{kind: opRead, key: key}, out: keyOutput{tasks: s}}
	}
	setStatus := func(st taskcreate.Status) step {
		return step{in: keyInput{kind: opSetStatus, key: key, id: a, status: st}}
	}
	at := func(call, ret int64, s step) step { s.call, s.ret = call, ret; return s }
	unknown := func(s step) step { s.unknown = true; return s }
	// inTurn times steps one after the other, none overlapping the next.
	inTurn := func(steps ...step) []step {
		for i := range steps {
			steps[i] = at(int64(2*i), int64(2*i+1), steps[i])
		}
		return steps
	}
	openBy := func(id uuid.UUID, run string) step { return read(keyTask{id, taskcreate.StatusOpen, run}) }
	retiring := func(f fate, o taskcreate.OutcomeKind) step {
		return create("run-b", f, true, b, candidateResult{outcome: o, taskID: a, retired: true})
	}
	aCreates := create("run-a", fateEligible, false, a, created(a))
	bUpdates := create("run-b", fateEligible, false, b, updated(a))
	aUnknown := unknown(create("run-a", fateEligible, false, a, candidateResult{}))

	cases := []struct {
		name  string
		steps []step
		want  porcupine.CheckResult
	}{
		{"created then updated", inTurn(aCreates, bUpdates, openBy(a, "run-b")), porcupine.Ok},
		{"created beside an open task", inTurn(aCreates, create("run-b", fateEligible, false, b, created(b))), porcupine.Illegal},
		{"overlapping creates, either order", []step{at(0, 3, bUpdates), at(1, 2, aCreates), at(4, 5, openBy(a, "run-b"))}, porcupine.Ok},
		{"retired, then reopened", inTurn(aCreates, retiring(fateSuppressed, taskcreate.OutcomeSuppressed),
			setStatus(taskcreate.StatusOpen), openBy(a, "run-b")), porcupine.Ok},
		{"in progress is never retired", inTurn(aCreates, setStatus(taskcreate.StatusInProgress),
			retiring(fateSkipped, taskcreate.OutcomeSkipped)), porcupine.Illegal},
		{"a read missing a swept task's dismissal", inTurn(aCreates, step{in: keyInput{kind: opSweep, key: key, run: "run-a"}},
			openBy(a, "run-a")), porcupine.Illegal},
		{"an unknown create may show up later", inTurn(aUnknown, read(), openBy(a, "run-a")), porcupine.Ok},
		{"an unknown create may never happen", inTurn(aUnknown, read()), porcupine.Ok},
		{"an unknown create makes no other id", inTurn(aUnknown, openBy(b, "run-a")), porcupine.Illegal},
	}
	for _, c := range cases {
		var history []porcupine.Operation
		var end int64
		for _, s := range c.steps {
			end = max(end, s.ret)
		}
		for i, s := range c.steps {
			op := porcupine.Operation{ClientId: i, Input: multiInput{perKey: map[taskKey]keyInput{key: s.in}},
				Call: s.call, Output: multiOutput{unknown: s.unknown, perKey: map[taskKey]keyOutput{key: s.out}}, Return: s.ret}
			if s.unknown {
				op.Return = end + 1
			}
			history = append(history, op)
		}
		if got := porcupine.CheckOperationsTimeout(linearizabilityModel(), history, 0); got != c.want {
			t.Errorf("%s: want %s, got %s", c.name, c.want, got)
		}
	}
}
