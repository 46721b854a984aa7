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

	cases := []struct {
		name  string
		steps []step
		want  porcupine.CheckResult
	}{
		{"created then updated", []step{
			at(0, 1, create("run-a", fateEligible, false, a, created(a))),
			at(2, 3, create("run-b", fateEligible, false, b, updated(a))),
			at(4, 5, read(keyTask{a, taskcreate.StatusOpen, "run-b"})),
		}, porcupine.Ok},
		{"created beside an open task", []step{
			at(0, 1, create("run-a", fateEligible, false, a, created(a))),
			at(2, 3, create("run-b", fateEligible, false, b, created(b))),
		}, porcupine.Illegal},
		{"overlapping creates, either order", []step{
			at(0, 3, create("run-b", fateEligible, false, b, updated(a))),
			at(1, 2, create("run-a", fateEligible, false, a, created(a))),
			at(4, 5, read(keyTask{a, taskcreate.StatusOpen, "run-b"})),
		}, porcupine.Ok},
		{"retired, then reopened", []step{
			at(0, 1, create("run-a", fateEligible, false, a, created(a))),
			at(2, 3, create("run-b", fateSuppressed, true, b, candidateResult{outcome: taskcreate.OutcomeSuppressed, taskID: a, retired: true})),
			at(4, 5, setStatus(taskcreate.StatusOpen)),
			at(6, 7, read(keyTask{a, taskcreate.StatusOpen, "run-b"})),
		}, porcupine.Ok},
		{"in progress is never retired", []step{
			at(0, 1, create("run-a", fateEligible, false, a, created(a))),
			at(2, 3, setStatus(taskcreate.StatusInProgress)),
			at(4, 5, create("run-b", fateSkipped, true, b, candidateResult{outcome: taskcreate.OutcomeSkipped, taskID: a, retired: true})),
		}, porcupine.Illegal},
		{"a read missing a swept task's dismissal", []step{
			at(0, 1, create("run-a", fateEligible, false, a, created(a))),
			at(2, 3, step{in: keyInput{kind: opSweep, key: key, run: "run-a"}}),
			at(4, 5, read(keyTask{a, taskcreate.StatusOpen, "run-a"})),
		}, porcupine.Illegal},
		{"an unknown create may show up later", []step{
			unknown(at(0, 1, create("run-a", fateEligible, false, a, candidateResult{}))),
			at(2, 3, read()),
			at(4, 5, read(keyTask{a, taskcreate.StatusOpen, "run-a"})),
		}, porcupine.Ok},
		{"an unknown create may never happen", []step{
			unknown(at(0, 1, create("run-a", fateEligible, false, a, candidateResult{}))),
			at(2, 3, read()),
		}, porcupine.Ok},
		{"an unknown create makes no other id", []step{
			unknown(at(0, 1, create("run-a", fateEligible, false, a, candidateResult{}))),
			at(2, 3, read(keyTask{b, taskcreate.StatusOpen, "run-a"})),
		}, porcupine.Illegal},
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
